// The xDS server over real gRPC on 127.0.0.1: handshake, ACK, NACK, pushes, workload lifecycle.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { HTTPRoute, Service, TrafficPolicy } from '../../api/resource.js';
import { parseTrafficPolicy } from '../../api/traffic-policy.js';
import { jsonToStruct, type ProxyMetadata } from '../../xds/node-metadata.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { WorkloadRegistry } from '../registry/workload-registry.js';
import { backend, httpRoute, metadata, service } from '../translator/test-fixtures.js';
import { DEFAULT_MESH_CONFIG } from '../../api/resource.js';
import type { Logger } from '../../common/log.js';
import { AdsTestClient, type ReceivedResponse } from './ads-test-client.js';
import { XdsServer } from './xds-server.js';
import { err, ok } from '../../common/result.js';
import type { StreamPrincipal, StreamSecurity } from './stream-security.js';
import type { XdsMetrics } from './xds-metrics.js';

/** Join tokens that are the names of principals; certificates that are placeholders. */
function fakeSecurity(principals: Record<string, StreamPrincipal>): StreamSecurity {
  return {
    authenticate: (token) => (token !== undefined && Object.hasOwn(principals, token) ? ok(principals[token]!) : err(`unknown token ${token}`)),
    issue: async () => ok({ chainPem: 'CHAIN', notBefore: new Date(), notAfter: new Date(Date.now() + 3_600_000) }),
    trustBundle: () => 'ROOTS',
    onRevoke: () => () => {},
    onBundleChange: () => () => {},
  };
}

interface Mesh {
  services: Service[];
  httpRoutes: HTTPRoute[];
  trafficPolicies?: TrafficPolicy[];
}

/** A server on a free port with a registry whose grace period is `graceSeconds`; all closed after the test. */
async function start(t: TestContext, mesh: Mesh, graceSeconds = 30, extra: { security?: StreamSecurity; maxMessageBytes?: number; metrics?: XdsMetrics } = {}) {
  const registry = new WorkloadRegistry({ gracePeriodSeconds: () => graceSeconds });
  const logs: { msg: string; obj: Record<string, unknown> }[] = [];
  const logger = {
    warn: (obj: Record<string, unknown>, msg: string) => logs.push({ obj, msg }),
    error: (obj: Record<string, unknown>, msg: string) => logs.push({ obj, msg }),
    debug: () => {},
  } as unknown as Logger;
  const server = new XdsServer({ registry, getState: () => ({ ...mesh, meshConfig: DEFAULT_MESH_CONFIG }), logger, ...extra });
  const port = await server.listen('127.0.0.1', 0);
  const clients: AdsTestClient[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await server.close();
    registry.close();
  });
  const connect = (joinToken?: string) => {
    const c = new AdsTestClient(port, joinToken !== undefined ? { joinToken } : {});
    clients.push(c);
    return c;
  };
  return { server, registry, connect, logs };
}

const names = (r: ReceivedResponse) => (r.resources ?? []).map((x) => x.name ?? x.clusterName);
const clientMeta = (over: Partial<ProxyMetadata> = {}) =>
  metadata('client', {
    address: '127.0.0.1',
    inbound: [{ port: 15006, appPort: 3000 }],
    upstreams: [{ service: 'server', namespace: 'default', port: 8080, localPort: 9001 }],
    ...over,
  });

async function waitUntil(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs the Envoy-style handshake (CDS, EDS, LDS, RDS, each ACKed) and returns the responses. */
async function handshake(c: AdsTestClient, id: string, meta: ProxyMetadata) {
  c.send({ node: AdsTestClient.node(id, meta), typeUrl: CLUSTER_TYPE });
  const cds = await c.next(CLUSTER_TYPE);
  const edsNames = names(cds).filter((n) => n!.startsWith('outbound|')) as string[];
  c.ack(cds);
  c.send({ typeUrl: ENDPOINT_TYPE, resourceNames: edsNames });
  const eds = await c.next(ENDPOINT_TYPE);
  c.ack(eds, edsNames);
  c.send({ typeUrl: LISTENER_TYPE });
  const lds = await c.next(LISTENER_TYPE);
  c.ack(lds);
  const rdsNames = (lds.resources ?? []).flatMap((l) => {
    const f = (l.filterChains as { filters: { typedConfig: { rds?: { routeConfigName: string } } }[] }[])[0]!.filters[0]!;
    return f.typedConfig.rds ? [f.typedConfig.rds.routeConfigName] : [];
  });
  c.send({ typeUrl: ROUTE_TYPE, resourceNames: rdsNames });
  const rds = await c.next(ROUTE_TYPE);
  c.ack(rds, rdsNames);
  return { cds, eds, lds, rds, edsNames, rdsNames };
}

test('a proxy gets clusters first, then endpoints, listeners and routes, and its ACKs are recorded', { timeout: 10000 }, async (t) => {
  const { server, connect } = await start(t, { services: [service('server')], httpRoutes: [] });
  const c = connect();
  const h = await handshake(c, 'client-1', clientMeta());
  assert.deepEqual(names(h.cds), ['inbound|3000', 'outbound|8080||server.default']);
  assert.equal(h.cds.resources![0]!['@type'], CLUSTER_TYPE);
  assert.deepEqual(names(h.eds), ['outbound|8080||server.default']);
  assert.deepEqual(names(h.lds), ['inbound|15006', 'outbound|127.0.0.1:9001']);
  assert.deepEqual(names(h.rds), ['inbound|15006', 'outbound|server.default:8080']);
  await waitUntil(() => server.proxies()[0]?.versions.routes === h.rds.versionInfo, 'the RDS ACK');
  const [status] = server.proxies();
  assert.deepEqual(status && { ...status, lastSeen: '' }, {
    id: 'client-1',
    service: 'client',
    namespace: 'default',
    address: '127.0.0.1',
    connected: true,
    lastSeen: '',
    versions: { clusters: h.cds.versionInfo, endpoints: h.eds.versionInfo, listeners: h.lds.versionInfo, routes: h.rds.versionInfo },
    nacks: [],
    undelivered: [],
    warnings: [],
    adminPort: clientMeta().adminPort,
    labels: { app: 'client' },
    current: { clusters: h.cds.versionInfo, endpoints: h.eds.versionInfo, listeners: h.lds.versionInfo, routes: h.rds.versionInfo },
  });
});

test('a NACK is recorded with the reason and the proxy keeps the version it accepted', { timeout: 10000 }, async (t) => {
  const mesh: Mesh = { services: [service('server')], httpRoutes: [] };
  const { server, connect, logs } = await start(t, mesh);
  const c = connect();
  c.send({ node: AdsTestClient.node('client-1', clientMeta()), typeUrl: CLUSTER_TYPE });
  const first = await c.next(CLUSTER_TYPE);
  c.ack(first);
  mesh.services = [service('server'), service('other')];
  server.onConfigChanged();
  const second = await c.next(CLUSTER_TYPE);
  assert.notEqual(second.versionInfo, first.versionInfo);
  c.send({ typeUrl: CLUSTER_TYPE, versionInfo: first.versionInfo, responseNonce: second.nonce, errorDetail: { code: 3, message: 'cluster outbound|8080||other.default: bad' } });
  await waitUntil(() => server.proxies()[0]!.nacks.length === 1, 'the NACK');
  const status = server.proxies()[0]!;
  assert.equal(status.versions.clusters, first.versionInfo);
  assert.deepEqual(
    { ...status.nacks[0]!, at: '' },
    { typeUrl: CLUSTER_TYPE, version: second.versionInfo, nonce: second.nonce, message: 'cluster outbound|8080||other.default: bad', at: '' },
  );
  assert.ok(
    logs.some((l) => l.obj.proxy === 'client-1' && l.obj.reason === 'cluster outbound|8080||other.default: bad'),
    'the NACK was logged with proxy and reason',
  );
  // The refused version is not sent again, even on a recompute ...
  server.onConfigChanged();
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(c.pending(), []);
  // ... but a new one is.
  mesh.services = [service('server')];
  server.onConfigChanged();
  assert.equal((await c.next(CLUSTER_TYPE)).versionInfo, first.versionInfo);
});

test('a route change reaches a connected proxy within a second, and only as RDS', { timeout: 10000 }, async (t) => {
  const mesh: Mesh = { services: [service('server'), service('server-v2', { selector: { app: 'server', version: 'v2' } })], httpRoutes: [] };
  const { server, connect } = await start(t, mesh);
  const c = connect();
  const h = await handshake(c, 'client-1', clientMeta());
  mesh.httpRoutes = [httpRoute('to-v2', [{ name: 'server' }], [{ backendRefs: [backend('server-v2')] }])];
  const changedAt = Date.now();
  server.onConfigChanged();
  const rds = await c.next(ROUTE_TYPE, 1000);
  assert.ok(Date.now() - changedAt < 1000);
  assert.notEqual(rds.versionInfo, h.rds.versionInfo);
  const table = rds.resources!.find((r) => r.name === 'outbound|server.default:8080') as unknown as { virtualHosts: { routes: { route: { cluster: string } }[] }[] };
  assert.equal(table.virtualHosts[0]!.routes[0]!.route.cluster, 'outbound|8080||server-v2.default');
  c.ack(rds, h.rdsNames);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(c.pending(), [], 'nothing else changed, nothing else was sent');
});

test('a workload stays, unhealthy, during the grace period after its stream ends, then leaves', { timeout: 10000 }, async (t) => {
  const { server, registry, connect } = await start(t, { services: [service('server')], httpRoutes: [] }, 0.3);
  const client = connect();
  const h = await handshake(client, 'client-1', clientMeta());
  assert.deepEqual(names(h.eds), ['outbound|8080||server.default']);
  const srv = connect();
  await handshake(srv, 'server-1', metadata('server', { address: '127.0.0.2', inbound: [{ port: 15006, appPort: 8080 }] }));
  const healthy = await client.next(ENDPOINT_TYPE);
  const endpointOf = (r: ReceivedResponse) =>
    ((r.resources![0] as unknown as { endpoints?: { lbEndpoints: { healthStatus: string }[] }[] }).endpoints ?? [])[0]?.lbEndpoints[0]?.healthStatus;
  assert.equal(endpointOf(healthy), 'HEALTHY');
  client.ack(healthy, h.edsNames);

  srv.close();
  const unhealthy = await client.next(ENDPOINT_TYPE);
  assert.equal(endpointOf(unhealthy), 'UNHEALTHY');
  assert.equal(registry.get('server-1')?.connected, false);
  assert.equal(server.proxies().find((p) => p.id === 'server-1')?.connected, false);
  client.ack(unhealthy, h.edsNames);

  const gone = await client.next(ENDPOINT_TYPE);
  assert.equal(endpointOf(gone), undefined, 'no endpoint after the grace period');
  assert.equal(registry.get('server-1'), undefined);
  assert.deepEqual(
    server.proxies().map((p) => p.id),
    ['client-1'],
  );
});

test('a proxy that reconnects within the grace period is the same workload', { timeout: 10000 }, async (t) => {
  const { registry, connect } = await start(t, { services: [service('server')], httpRoutes: [] }, 5);
  const events: string[] = [];
  registry.onChange((e) => events.push(`${e.type}:${e.workload.connected}`));
  const first = connect();
  await handshake(first, 'server-1', metadata('server'));
  first.close();
  await waitUntil(() => registry.get('server-1')?.connected === false, 'the disconnect');
  const again = connect();
  await handshake(again, 'server-1', metadata('server'));
  assert.deepEqual(events, ['added:true', 'updated:false', 'updated:true']);
});

test('a second stream with the same node id replaces the first', { timeout: 10000 }, async (t) => {
  const { server, registry, connect } = await start(t, { services: [], httpRoutes: [] });
  const events: string[] = [];
  registry.onChange((e) => events.push(`${e.type}:${e.workload.connected}`));
  const first = connect();
  first.send({ node: AdsTestClient.node('p1', clientMeta()), typeUrl: CLUSTER_TYPE });
  await first.next(CLUSTER_TYPE);
  const second = connect();
  second.send({ node: AdsTestClient.node('p1', clientMeta()), typeUrl: CLUSTER_TYPE });
  await second.next(CLUSTER_TYPE);
  const status = await first.status;
  assert.equal(status.code, 10 /* ABORTED */);
  assert.match(status.details, /XDS_STREAM_REPLACED/);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    server.proxies().map((p) => [p.id, p.connected]),
    [['p1', true]],
  );
  assert.deepEqual(events, ['added:true'], 'the workload never looked disconnected');
});

test('invalid node metadata ends the stream with INVALID_ARGUMENT naming the field', { timeout: 10000 }, async (t) => {
  const { server, connect } = await start(t, { services: [], httpRoutes: [] });
  const c = connect();
  c.send({
    node: { id: 'bad-1', metadata: jsonToStruct({ service: 'x', address: '10.0.0.1', adminPort: 15000, inbound: [{ port: 'nope', appPort: 3000 }] }) },
    typeUrl: CLUSTER_TYPE,
  });
  const status = await c.status;
  assert.equal(status.code, 3 /* INVALID_ARGUMENT */);
  assert.match(status.details, /node\.metadata\.inbound\[0\]\.port: must be an integer from 1 to 65535, got "nope"/);
  assert.deepEqual(server.proxies(), []);
});

test('a first request without a node id ends the stream with INVALID_ARGUMENT', { timeout: 10000 }, async (t) => {
  const { connect } = await start(t, { services: [], httpRoutes: [] });
  const c = connect();
  c.send({ typeUrl: CLUSTER_TYPE });
  const status = await c.status;
  assert.equal(status.code, 3);
  assert.match(status.details, /node\.id: required/);
});

test('close ends every stream with UNAVAILABLE', { timeout: 10000 }, async (t) => {
  const { server, connect } = await start(t, { services: [], httpRoutes: [] });
  const c = connect();
  c.send({ node: AdsTestClient.node('p1', clientMeta()), typeUrl: CLUSTER_TYPE });
  await c.next(CLUSTER_TYPE);
  await server.close();
  assert.equal((await c.status).code, 14 /* UNAVAILABLE */);
});

test('a change pushes only to the proxies whose config it changes', { timeout: 10000 }, async (t) => {
  const mesh: Mesh = { services: [service('server'), service('server-v2', { selector: { app: 'server', version: 'v2' } })], httpRoutes: [] };
  const { server, connect } = await start(t, mesh);
  const caller = connect();
  const h = await handshake(caller, 'caller-1', clientMeta());
  const bystander = connect();
  await handshake(bystander, 'bystander-1', metadata('bystander', { address: '127.0.0.3' }));
  mesh.httpRoutes = [httpRoute('to-v2', [{ name: 'server' }], [{ backendRefs: [backend('server-v2')] }])];
  server.onConfigChanged();
  caller.ack(await caller.next(ROUTE_TYPE), h.rdsNames);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(bystander.pending(), [], 'a proxy without a route to the Service got nothing');
});

function trafficPolicy(name: string, target: string, created: string): TrafficPolicy {
  const r = parseTrafficPolicy({
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'TrafficPolicy',
    metadata: { name, creationTimestamp: created },
    spec: { targetRef: { name: target }, circuitBreaker: { maxRequests: 200 } },
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return { ...r.value, metadata: { ...r.value.metadata, creationTimestamp: created } };
}

test('regression issue 12: policy warnings that change no config version still reach the proxy status, and leave it when fixed', { timeout: 10000 }, async (t) => {
  const mesh: Mesh = { services: [service('server')], httpRoutes: [] };
  const { server, connect } = await start(t, mesh);
  const c = connect();
  const h = await handshake(c, 'client-1', clientMeta());
  const warningsOf = () => server.proxies().find((p) => p.id === 'client-1')?.warnings ?? [];
  const versions = () => server.proxies().find((p) => p.id === 'client-1')?.current;
  const before = versions();
  assert.deepEqual(warningsOf(), []);

  // A policy whose target is missing changes no resource of this proxy.
  mesh.trafficPolicies = [trafficPolicy('orphan', 'missing', '2026-01-01T00:00:00Z')];
  server.onConfigChanged();
  await waitUntil(() => warningsOf().length === 1, 'the missing-target warning in the proxy status');
  assert.match(warningsOf()[0]!, /^TrafficPolicy default\/orphan: Service default\/missing does not exist; the policy applies to nothing$/);
  assert.deepEqual(versions(), before, 'no version changed');

  // A second policy on a Service that already has one is ignored: the clusters change once (the first policy), the warning is added.
  mesh.trafficPolicies = [trafficPolicy('first', 'server', '2026-01-01T00:00:00Z'), trafficPolicy('second', 'server', '2026-01-02T00:00:00Z')];
  server.onConfigChanged();
  c.ack(await c.next(CLUSTER_TYPE));
  await waitUntil(() => warningsOf().some((w) => w.includes('second')), 'the ignored-policy warning');
  assert.deepEqual(warningsOf(), ['TrafficPolicy default/second: Service default/server already has TrafficPolicy first (older); this one is ignored']);
  const withFirst = versions();

  // Deleting the ignored one changes nothing the proxy gets; its warning leaves the status.
  mesh.trafficPolicies = [trafficPolicy('first', 'server', '2026-01-01T00:00:00Z')];
  server.onConfigChanged();
  await waitUntil(() => warningsOf().length === 0, 'the warning gone from the proxy status');
  assert.deepEqual(versions(), withFirst);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(c.pending(), [], 'nothing was pushed for a warning');
  void h;
});

const tokens = fakeSecurity({
  evil: { tokenId: 'e1', service: 'evil', namespace: 'default' },
  payments: { tokenId: 'p1', service: 'payments', namespace: 'default' },
  'payments-again': { tokenId: 'p2', service: 'payments', namespace: 'default' },
  web: { tokenId: 'w1', service: 'web', namespace: 'default' },
});
const paymentsMeta = (over: Partial<ProxyMetadata> = {}) => metadata('payments', { address: '127.0.0.1', inbound: [{ port: 15006, appPort: 3000 }], ...over });

test('a proxy whose token is for evil claiming app=payments is refused with PERMISSION_DENIED and never registers', { timeout: 10000 }, async (t) => {
  const { server, registry, connect } = await start(t, { services: [service('payments')], httpRoutes: [] }, 30, { security: tokens });
  const rogue = connect('evil');
  rogue.send({ node: AdsTestClient.node('rogue-1', metadata('evil', { labels: { app: 'payments' } })), typeUrl: CLUSTER_TYPE });
  const status = await rogue.status;
  assert.equal(status.code, 7 /* PERMISSION_DENIED */);
  assert.match(
    status.details,
    /^\[XDS_LABEL_NOT_ALLOWED\] node rogue-1: label app=payments is not allowed: join token e1 is for service evil in namespace default and allows app=evil and any other label$/,
  );
  assert.deepEqual(rogue.pending(), [], 'the rogue got config');
  assert.deepEqual(registry.list(), []);
  assert.deepEqual(server.proxies(), []);
});

test('a stream with a node id held by another identity is refused; the holder keeps its stream; its own identity may take over', { timeout: 10000 }, async (t) => {
  const mesh: Mesh = { services: [], httpRoutes: [] };
  const { server, registry, connect } = await start(t, mesh, 30, { security: tokens });
  const events: string[] = [];
  registry.onChange((e) => events.push(`${e.type}:${e.workload.service}`));
  const real = connect('payments');
  real.send({ node: AdsTestClient.node('p1', paymentsMeta()), typeUrl: CLUSTER_TYPE });
  real.ack(await real.next(CLUSTER_TYPE));

  for (let attempt = 0; attempt < 3; attempt++) {
    const hijacker = connect('web');
    hijacker.send({ node: AdsTestClient.node('p1', metadata('web')), typeUrl: CLUSTER_TYPE });
    const status = await hijacker.status;
    assert.equal(status.code, 7 /* PERMISSION_DENIED */);
    assert.match(
      status.details,
      /^\[XDS_NODE_ID_OWNED\] node id p1 belongs to the workload of service payments in namespace default until it leaves the registry; this stream is service web in namespace default/,
    );
  }
  // The real stream still gets pushes: it was never ended.
  mesh.services.push(service('server'));
  server.onConfigChanged();
  assert.ok(names(await real.next(CLUSTER_TYPE)).includes('outbound|8080||server.default'));
  assert.deepEqual(
    server.proxies().map((p) => [p.id, p.service, p.connected]),
    [['p1', 'payments', true]],
  );
  assert.deepEqual(events, ['added:payments'], 'the real workload never changed');

  // A restarted payments proxy with a fresh token of the same service takes its node id over.
  const restarted = connect('payments-again');
  restarted.send({ node: AdsTestClient.node('p1', paymentsMeta()), typeUrl: CLUSTER_TYPE });
  await restarted.next(CLUSTER_TYPE);
  assert.match((await real.status).details, /XDS_STREAM_REPLACED/);
});

test('a node id is free again once its workload left the registry', { timeout: 10000 }, async (t) => {
  const { registry, connect } = await start(t, { services: [], httpRoutes: [] }, 0, { security: tokens });
  const first = connect('payments');
  first.send({ node: AdsTestClient.node('p1', paymentsMeta()), typeUrl: CLUSTER_TYPE });
  await first.next(CLUSTER_TYPE);
  first.close();
  await waitUntil(() => registry.list().length === 0, 'the workload to leave (grace period 0)');
  const next = connect('web');
  next.send({ node: AdsTestClient.node('p1', metadata('web')), typeUrl: CLUSTER_TYPE });
  await next.next(CLUSTER_TYPE);
  assert.equal(registry.get('p1')?.service, 'web');
});

test('a response over the message limit is not sent; the proxy status says which type, its size and the limit; the next one that fits is sent', { timeout: 10000 }, async (t) => {
  const mesh: Mesh = { services: [service('server')], httpRoutes: [] };
  const limit = 16 * 1024;
  const { server, connect, logs } = await start(t, mesh, 30, { maxMessageBytes: limit });
  const c = connect();
  const h = await handshake(c, 'client-1', clientMeta());
  // 100 ports (the per-Service limit) make about 20 KiB of clusters for every proxy.
  mesh.services = [service('server'), service('big', { ports: Array.from({ length: 100 }, (_, i) => ({ port: 10_000 + i })) })];
  server.onConfigChanged();
  await waitUntil(() => (server.proxies()[0]?.undelivered ?? []).length > 0, 'the undelivered CDS on the proxy status');
  const [status] = server.proxies();
  const u = status!.undelivered![0]!;
  assert.equal(u.typeUrl, CLUSTER_TYPE);
  assert.equal(u.limitBytes, limit);
  assert.ok(u.bytes > limit, `${u.bytes} > ${limit}`);
  assert.equal(u.version, status!.current!.clusters);
  assert.notEqual(status!.versions.clusters, status!.current!.clusters, 'the proxy still runs its last clusters');
  assert.match(u.message, new RegExp(`^clusters version \\S+ is ${u.bytes} bytes .* over the xDS message limit of ${limit} bytes; not sent`));
  assert.ok(
    logs.some((l) => l.msg.includes('over the xDS message limit')),
    'logged',
  );
  assert.deepEqual(
    c.pending().filter((r) => r.typeUrl === CLUSTER_TYPE),
    [],
    'no CDS response was sent',
  );
  // Back to the config the proxy has: nothing to send, and the record no longer applies.
  mesh.services = [service('server')];
  server.onConfigChanged();
  await waitUntil(() => server.proxies()[0]!.current!.clusters === h.cds.versionInfo, 'the original clusters as current');
  assert.deepEqual(server.proxies()[0]!.undelivered, []);
  // A new config that fits is delivered on the same stream.
  mesh.services = [service('server'), service('other')];
  server.onConfigChanged();
  const cds = await c.next(CLUSTER_TYPE);
  assert.notEqual(cds.versionInfo, h.cds.versionInfo);
  assert.notEqual(cds.versionInfo, u.version);
  assert.ok(names(cds).includes('outbound|8080||other.default'));
  assert.deepEqual(server.proxies()[0]!.undelivered, []);
});

test(
  'a proxyless gRPC node gets the listener it names in the FIRST LDS response, then its routes, clusters and endpoints; its kind and client show in its status',
  { timeout: 10000 },
  async (t) => {
    const grpcService = (name: string) => service(name, { ports: [{ port: 9000, appProtocol: 'grpc' }] });
    const { server, connect } = await start(t, { services: [grpcService('greeter'), grpcService('store')], httpRoutes: [] });
    const c = connect();
    const meta = metadata('app', { kind: 'grpc', address: '127.0.0.1', inbound: [], adminPort: undefined });
    c.send({ node: { ...AdsTestClient.node('app-1', meta), userAgentName: 'grpc-node-js', userAgentVersion: '1.14.1' }, typeUrl: LISTENER_TYPE, resourceNames: ['greeter'] });
    const lds = await c.next(LISTENER_TYPE);
    assert.deepEqual(names(lds), ['greeter'], 'the first response already has the named listener');
    c.ack(lds, ['greeter']);
    // A second channel: the subscription grows, and the next response has both listeners.
    c.send({ typeUrl: LISTENER_TYPE, versionInfo: lds.versionInfo, responseNonce: lds.nonce, resourceNames: ['greeter', 'store', 'nothing'] });
    const lds2 = await c.next(LISTENER_TYPE);
    assert.deepEqual(names(lds2), ['greeter', 'store']);
    c.ack(lds2, ['greeter', 'store', 'nothing']);
    c.send({ typeUrl: ROUTE_TYPE, resourceNames: ['outbound|greeter.default:9000'] });
    assert.deepEqual(names(await c.next(ROUTE_TYPE)), ['outbound|greeter.default:9000']);
    c.send({ typeUrl: CLUSTER_TYPE, resourceNames: ['outbound|9000||greeter.default'] });
    assert.deepEqual(names(await c.next(CLUSTER_TYPE)), ['outbound|9000||greeter.default']);
    c.send({ typeUrl: ENDPOINT_TYPE, resourceNames: ['outbound|9000||greeter.default'] });
    assert.deepEqual(names(await c.next(ENDPOINT_TYPE)), ['outbound|9000||greeter.default']);
    await waitUntil(() => server.proxies()[0]?.versions.listeners === lds2.versionInfo, 'the LDS ACK');
    const status = server.proxies()[0]!;
    assert.equal(status.kind, 'grpc');
    assert.deepEqual(status.userAgent, { name: 'grpc-node-js', version: '1.14.1' });
    assert.ok(
      status.warnings?.some((w) => w.startsWith('listener "nothing": Service default/nothing does not exist')),
      status.warnings?.join('\n'),
    );
  },
);

test('a proxyless listener name that resolves to nothing is sent once its Service exists', { timeout: 10000 }, async (t) => {
  const mesh: Mesh = { services: [], httpRoutes: [] };
  const { server, connect } = await start(t, mesh);
  const c = connect();
  c.send({
    node: AdsTestClient.node('app-1', metadata('app', { kind: 'grpc', address: '127.0.0.1', inbound: [], adminPort: undefined })),
    typeUrl: LISTENER_TYPE,
    resourceNames: ['greeter'],
  });
  const first = await c.next(LISTENER_TYPE);
  assert.deepEqual(names(first), [], 'absent: the client records that it does not exist');
  c.ack(first, ['greeter']);
  mesh.services = [service('greeter', { ports: [{ port: 9000, appProtocol: 'grpc' }] })];
  server.onConfigChanged();
  const second = await c.next(LISTENER_TYPE);
  assert.deepEqual(names(second), ['greeter']);
  assert.notEqual(second.versionInfo, first.versionInfo);
});

test('metrics: every response with its size, the push latency of a change (not of first answers), NACKs, snapshot computations', { timeout: 10000 }, async (t) => {
  const sent: [string, number][] = [];
  const pushed: [string, string, number][] = [];
  const nacked: string[] = [];
  const computed: string[] = [];
  const metrics: XdsMetrics = {
    responseSent: (type, bytes) => sent.push([type, bytes]),
    pushed: (type, kind, seconds) => pushed.push([type, kind, seconds]),
    nacked: (type) => nacked.push(type),
    snapshotComputed: (kind, seconds) => {
      assert.ok(seconds >= 0 && seconds < 5);
      computed.push(kind);
    },
  };
  const mesh: Mesh = { services: [service('server'), service('server-v2', { selector: { app: 'server', version: 'v2' } })], httpRoutes: [] };
  const { server, connect } = await start(t, mesh, 30, { metrics });
  const c = connect();
  const h = await handshake(c, 'client-1', clientMeta());
  assert.deepEqual(
    sent.map(([type]) => type),
    [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE],
  );
  assert.ok(
    sent.every(([, bytes]) => bytes > 50),
    `sizes: ${sent.map(([, b]) => b).join(', ')}`,
  );
  assert.equal(pushed.length, 0, 'answers to subscriptions carry no change');
  assert.deepEqual([...new Set(computed)], ['sidecar']);
  // The workload joining is a change too: its recompute over (it pushes nothing new) before ours starts.
  await waitUntil(() => computed.length >= 2, 'the recompute after the workload joined');

  mesh.httpRoutes = [httpRoute('to-v2', [{ name: 'server' }], [{ backendRefs: [backend('server-v2')] }])];
  const before = performance.now();
  server.onConfigChanged();
  const rds = await c.next(ROUTE_TYPE, 1000);
  const upperBound = (performance.now() - before) / 1000;
  assert.equal(pushed.length, 1);
  const [type, kind, seconds] = pushed[0]!;
  assert.deepEqual([type, kind], [ROUTE_TYPE, 'sidecar']);
  assert.ok(seconds >= 0.015 && seconds <= upperBound, `${seconds} s: at least the 20 ms debounce, at most ${upperBound} s`);
  assert.equal(sent.at(-1)![0], ROUTE_TYPE);

  c.send({ typeUrl: ROUTE_TYPE, versionInfo: h.rds.versionInfo, responseNonce: rds.nonce, resourceNames: h.rdsNames, errorDetail: { code: 3, message: 'no' } });
  await waitUntil(() => nacked.length === 1, 'the NACK');
  assert.deepEqual(nacked, [ROUTE_TYPE]);
  assert.equal(pushed.length, 1, 'a NACK pushes nothing');
});
