import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { waitFor } from '../../common/wait.js';
import { structToJson, type ProxyMetadata } from '../../xds/node-metadata.js';
import { CLUSTER, CLUSTER_LOAD_ASSIGNMENT, CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER, LISTENER_TYPE, ROUTE_CONFIGURATION, ROUTE_TYPE } from '../../xds/type-urls.js';
import type { RuntimeConfig } from '../config/runtime-config.js';
import type { DiscoveryRequest } from './ads-service.js';
import { FakeAdsServer } from './fake-ads-server.js';
import { XdsClient, type ApplyResult, type XdsClientOptions } from './xds-client.js';
import { cla, edsCluster, httpListener, prefixRoute, routeConfig, staticCluster, tcpListener } from './xds-fixtures.js';

const C = 'outbound|8080||payments.default';
const RT = 'outbound|payments.default:8080';
const LIS = 'outbound|127.0.0.1:9001';
const META: ProxyMetadata = {
  service: 'web',
  namespace: 'default',
  labels: { version: 'v1' },
  address: '127.0.0.1',
  inbound: [{ port: 15006, appPort: 3000 }],
  upstreams: [{ service: 'payments', namespace: 'default', port: 8080, localPort: 9001 }],
  adminPort: 15000,
};
const OPTS = { timeout: 10_000 };

interface Harness {
  server: FakeAdsServer;
  client: XdsClient;
  applied: RuntimeConfig[];
  answer: { next: ApplyResult | Error };
}

async function setup(t: TestContext, extra: Partial<XdsClientOptions> = {}): Promise<Harness> {
  const server = new FakeAdsServer();
  await server.start();
  const applied: RuntimeConfig[] = [];
  const answer: Harness['answer'] = { next: { ok: true } };
  const client = new XdsClient({
    server: `127.0.0.1:${server.port}`,
    node: { id: 'web-1', cluster: 'web', metadata: META },
    onConfig: async (config) => {
      if (answer.next instanceof Error) throw answer.next;
      if (answer.next.ok) applied.push(config);
      return answer.next;
    },
    backoff: { initialMs: 20, maxMs: 100 },
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  t.after(() => {
    client.close();
    server.stop();
  });
  client.start();
  return { server, client, applied, answer };
}

const ofType = (typeUrl: string) => (r: DiscoveryRequest) => r.typeUrl === typeUrl;

/** Plays a control plane through the whole warm-up: CDS, EDS, LDS, RDS, each ACKed. */
async function warmUp(h: Harness): Promise<void> {
  const { server } = h;
  await server.take(ofType(CLUSTER_TYPE));
  await server.take(ofType(LISTENER_TYPE));
  server.send(CLUSTER, 'c1', [edsCluster(C), staticCluster('inbound|3000', 3000)]);
  await server.take((r) => r.typeUrl === CLUSTER_TYPE && r.versionInfo === 'c1');
  await server.take(ofType(ENDPOINT_TYPE));
  server.send(CLUSTER_LOAD_ASSIGNMENT, 'e1', [cla(C, [['10.0.0.1', 15006]])]);
  await server.take((r) => r.typeUrl === ENDPOINT_TYPE && r.versionInfo === 'e1');
  server.send(LISTENER, 'l1', [httpListener(LIS, 9001, RT)]);
  await server.take((r) => r.typeUrl === LISTENER_TYPE && r.versionInfo === 'l1');
  await server.take(ofType(ROUTE_TYPE));
  server.send(ROUTE_CONFIGURATION, 'r1', [routeConfig(RT, [prefixRoute('/', C)])]);
  await server.take((r) => r.typeUrl === ROUTE_TYPE && r.versionInfo === 'r1');
}

test('first subscribes to clusters then listeners, wildcard, with its node id and metadata', OPTS, async (t) => {
  const { server } = await setup(t);
  const first = await server.take();
  const second = await server.take();
  assert.deepEqual([first.typeUrl, second.typeUrl], [CLUSTER_TYPE, LISTENER_TYPE]);
  for (const r of [first, second]) {
    assert.deepEqual(r.resourceNames ?? [], []);
    assert.equal(r.versionInfo ?? '', '');
    assert.equal(r.responseNonce ?? '', '');
  }
  assert.equal(first.node?.id, 'web-1');
  assert.equal(first.node?.cluster, 'web');
  assert.deepEqual(structToJson(first.node?.metadata), META);
});

test('ACKs with the response version and nonce, then asks for the endpoints of its EDS clusters', OPTS, async (t) => {
  const h = await setup(t);
  await h.server.take(ofType(CLUSTER_TYPE));
  await h.server.take(ofType(LISTENER_TYPE));
  const nonce = h.server.send(CLUSTER, 'c1', [edsCluster(C)]);
  const ack = await h.server.take(ofType(CLUSTER_TYPE));
  assert.equal(ack.versionInfo, 'c1');
  assert.equal(ack.responseNonce, nonce);
  assert.equal(ack.errorDetail, undefined);
  const eds = await h.server.take(ofType(ENDPOINT_TYPE));
  assert.deepEqual(eds.resourceNames, [C]);
  assert.equal(h.applied.length, 1);
  assert.deepEqual(h.applied[0]!.clusters.get(C)?.endpoints, [], 'no endpoints before EDS answers');
});

test('warms up through CDS, EDS, LDS and RDS and is ready only once the route table arrived', OPTS, async (t) => {
  const h = await setup(t);
  const readyBeforeRds: boolean[] = [];
  const { server } = h;
  await server.take(ofType(CLUSTER_TYPE));
  await server.take(ofType(LISTENER_TYPE));
  server.send(CLUSTER, 'c1', [edsCluster(C)]);
  await server.take(ofType(ENDPOINT_TYPE));
  server.send(CLUSTER_LOAD_ASSIGNMENT, 'e1', [cla(C, [['10.0.0.1', 15006]])]);
  server.send(LISTENER, 'l1', [httpListener(LIS, 9001, RT)]);
  const rds = await server.take(ofType(ROUTE_TYPE));
  assert.deepEqual(rds.resourceNames, [RT]);
  readyBeforeRds.push(h.client.ready());
  server.send(ROUTE_CONFIGURATION, 'r1', [routeConfig(RT, [prefixRoute('/', C)])]);
  await server.take((r) => r.typeUrl === ROUTE_TYPE && r.versionInfo === 'r1');
  assert.deepEqual(readyBeforeRds, [false]);
  assert.equal(h.client.ready(), true);
  const last = h.applied[h.applied.length - 1]!;
  assert.deepEqual(last.versions, { clusters: 'c1', endpoints: 'e1', listeners: 'l1', routes: 'r1' });
  assert.ok(last.routes.has(RT) && last.listeners.has(LIS));
  assert.equal(last.clusters.get(C)?.endpoints.length, 1);
  const st = h.client.status();
  assert.equal(st.connected, true);
  assert.deepEqual(st.versions, last.versions);
  assert.ok(st.lastUpdate);
  assert.equal(h.client.dump().resources.routes[0]?.name, RT);
});

test('a bad resource is NACKed with the reason and the old config stays in effect', OPTS, async (t) => {
  const h = await setup(t);
  await warmUp(h);
  const applied = h.applied.length;
  const bad = httpListener(LIS, 9001, RT);
  bad.address!.socketAddress.address = 'localhost';
  const nonce = h.server.send(LISTENER, 'l2', [bad]);
  const nack = await h.server.take(ofType(LISTENER_TYPE));
  assert.equal(nack.versionInfo, 'l1', 'a NACK carries the last good version');
  assert.equal(nack.responseNonce, nonce);
  assert.equal(nack.errorDetail?.code, 3);
  assert.match(nack.errorDetail?.message ?? '', /listener "outbound\|127\.0\.0\.1:9001": address\.socketAddress\.address: must be an IP address literal, got "localhost"/);
  assert.equal(h.applied.length, applied, 'onConfig was not called with the bad config');
  assert.equal(h.client.config.versions.listeners, 'l1');
  assert.equal(h.client.dump().resources.listeners[0]?.address?.socketAddress.address, '127.0.0.1');
  const { nacks } = h.client.status();
  assert.equal(nacks.length, 1);
  assert.deepEqual([nacks[0]?.typeUrl, nacks[0]?.version], [LISTENER_TYPE, 'l2']);
});

test('a response whose resources do not decode is NACKed with the reason, and the stream and old config stay', OPTS, async (t) => {
  const h = await setup(t);
  await warmUp(h);
  const streams = h.server.streams;
  // Field 1000 with wire type 7, which does not exist.
  const nonce = h.server.sendRaw(LISTENER, 'l2', [Uint8Array.from([0xc7, 0x3e])]);
  const nack = await h.server.take(ofType(LISTENER_TYPE));
  assert.equal(nack.responseNonce, nonce);
  assert.equal(nack.versionInfo, 'l1');
  assert.match(nack.errorDetail?.message ?? '', /^XDS_INVALID: the response's resources could not be decoded: /);
  assert.equal(h.server.streams, streams, 'the same stream carried the NACK');
  assert.equal(h.client.config.versions.listeners, 'l1');
  assert.deepEqual(
    h.client.status().nacks.map((n) => [n.typeUrl, n.version]),
    [[LISTENER_TYPE, 'l2']],
  );
});

test('a listener to a cluster that does not exist is NACKed, not applied', OPTS, async (t) => {
  const h = await setup(t);
  await warmUp(h);
  const applied = h.applied.length;
  h.server.send(LISTENER, 'l2', [httpListener(LIS, 9001, RT), tcpListener('tcp', 9100, 'outbound|5432||db.default')]);
  const nack = await h.server.take(ofType(LISTENER_TYPE));
  assert.match(nack.errorDetail?.message ?? '', /cluster "outbound\|5432\|\|db\.default" does not exist/);
  assert.equal(h.applied.length, applied);
});

test('a config the data plane fails to apply is NACKed with its message', OPTS, async (t) => {
  const h = await setup(t);
  await warmUp(h);
  h.answer.next = { ok: false, message: 'listen EADDRINUSE 127.0.0.1:9002' };
  h.server.send(LISTENER, 'l2', [httpListener('other', 9002, RT)]);
  const nack = await h.server.take(ofType(LISTENER_TYPE));
  assert.equal(nack.versionInfo, 'l1');
  assert.match(nack.errorDetail?.message ?? '', /XDS_APPLY_FAILED: .*EADDRINUSE 127\.0\.0\.1:9002/);
  h.answer.next = new Error('apply threw');
  h.server.send(LISTENER, 'l3', [httpListener('other', 9002, RT)]);
  const nack2 = await h.server.take(ofType(LISTENER_TYPE));
  assert.match(nack2.errorDetail?.message ?? '', /apply threw/);
  assert.equal(h.client.status().versions.listeners, 'l1');
});

test('keeps its config while the control plane is away, then resyncs when it returns on the same port', OPTS, async (t) => {
  const h = await setup(t);
  await warmUp(h);
  const applied = h.applied.length;
  const port = h.server.port;
  h.server.stop();
  await waitFor(async () => !h.client.status().connected, 'the client to notice the control plane left', 3000, 10);
  assert.ok(h.client.status().lastError);
  assert.equal(h.applied.length, applied, 'no config was applied while away');
  assert.equal(h.client.config.versions.routes, 'r1');
  await new Promise((r) => setTimeout(r, 150)); // a few failed reconnect attempts
  const back = new FakeAdsServer();
  await back.start(port);
  t.after(() => back.stop());
  // The client resumes with its last ACKed versions and current names.
  const resumed = await Promise.all([ofType(CLUSTER_TYPE), ofType(LISTENER_TYPE), ofType(ENDPOINT_TYPE), ofType(ROUTE_TYPE)].map((m) => back.take(m)));
  assert.deepEqual(
    resumed.map((r) => [r.versionInfo, r.resourceNames ?? []]),
    [
      ['c1', []],
      ['l1', []],
      ['e1', [C]],
      ['r1', [RT]],
    ],
  );
  // A restarted control plane resends everything under new versions.
  back.send(CLUSTER, 'x1', [edsCluster(C), staticCluster('inbound|3000', 3000)]);
  back.send(CLUSTER_LOAD_ASSIGNMENT, 'x1', [cla(C, [['10.0.0.2', 15006]])]);
  back.send(LISTENER, 'x1', [httpListener(LIS, 9001, RT)]);
  back.send(ROUTE_CONFIGURATION, 'x1', [routeConfig(RT, [prefixRoute('/', C)])]);
  await back.take((r) => r.typeUrl === ROUTE_TYPE && r.versionInfo === 'x1');
  assert.deepEqual(h.client.status().versions, { clusters: 'x1', endpoints: 'x1', listeners: 'x1', routes: 'x1' });
  assert.equal(h.client.status().connected, true);
  assert.equal(h.client.config.clusters.get(C)?.endpoints[0]?.address, '10.0.0.2');
  assert.ok(
    back.untaken.every((r) => !r.errorDetail),
    'nothing was NACKed',
  );
});

test('after close it neither reconnects nor applies anything', OPTS, async (t) => {
  const h = await setup(t);
  await h.server.take(ofType(LISTENER_TYPE));
  h.client.close();
  h.server.send(CLUSTER, 'c1', [edsCluster(C)]);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(h.server.streams, 1);
  assert.equal(h.applied.length, 0);
  assert.equal(h.client.status().connected, false);
});

test('a response of a type it did not ask for is ignored', OPTS, async (t) => {
  const h = await setup(t);
  await h.server.take(ofType(CLUSTER_TYPE));
  await h.server.take(ofType(LISTENER_TYPE));
  h.server.send('envoy.config.core.v3.Node', 'v', []);
  h.server.send(CLUSTER, 'c1', []);
  const ack = await h.server.take(ofType(CLUSTER_TYPE));
  assert.equal(ack.versionInfo, 'c1');
  assert.ok(h.server.untaken.every((r) => r.typeUrl !== 'type.googleapis.com/envoy.config.core.v3.Node'));
});

test('reconnect delays grow while the control plane is away and start over after a stream that delivered a response', OPTS, async (t) => {
  const logs: { msg: string; delayMs?: number }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const h = await setup(t, { logger, random: () => 0.999 });
  const delays = () => logs.filter((l) => l.delayMs !== undefined).map((l) => l.delayMs);
  const port = h.server.port;
  await h.server.take(ofType(LISTENER_TYPE));
  h.server.send(CLUSTER, 'c1', []);
  await h.server.take((r) => r.versionInfo === 'c1');
  h.server.stop();
  await waitFor(async () => delays().length >= 5, 'five reconnect attempts', 3000, 10);
  assert.deepEqual(delays().slice(0, 5), [19, 39, 79, 99, 99], 'ceilings 20, 40, 80, then capped at 100');
  const back = new FakeAdsServer();
  await back.start(port);
  t.after(() => back.stop());
  await back.take(ofType(LISTENER_TYPE));
  const before = delays().length;
  back.send(CLUSTER, 'c2', []);
  await back.take((r) => r.versionInfo === 'c2');
  back.stop();
  await waitFor(async () => delays().length > before, 'a reconnect attempt', 3000, 10);
  assert.equal(delays()[before], 19);
});

test('a readiness change is sent at once as a repeat of the last CDS request, and every later request carries it', OPTS, async (t) => {
  const h = await setup(t);
  await warmUp(h);
  h.client.reportReadiness('ready');
  const report = await h.server.take(ofType(CLUSTER_TYPE));
  assert.equal(report.versionInfo, 'c1', 'the accepted version, so the control plane sees no NACK and sends nothing new');
  assert.equal(structToJson(report.node?.metadata).readiness, 'ready');
  h.client.reportReadiness('ready');
  h.client.reportReadiness('draining');
  const next = await h.server.take(ofType(CLUSTER_TYPE));
  assert.equal(structToJson(next.node?.metadata).readiness, 'draining', 'a repeated state is not sent again');
  h.server.send(CLUSTER_LOAD_ASSIGNMENT, 'e2', [cla(C, [['10.0.0.2', 15006]])]);
  const ack = await h.server.take((r) => r.typeUrl === ENDPOINT_TYPE && r.versionInfo === 'e2');
  assert.equal(structToJson(ack.node?.metadata).readiness, 'draining');
});
