// Transparent mode: capture listeners routed by original destination, policy clusters, VIPs in cluster metadata.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TCPRoute } from '../../api/resource.js';
import type { FilterChain, Listener } from '../../xds/envoy-types.js';
import { encodeMessage } from '../../xds/protos.js';
import { LISTENER } from '../../xds/type-urls.js';
import { structToJson } from '../../xds/node-metadata.js';
import { checkSnapshot } from './consistency.js';
import { backend, httpRoute, input, proxy, service, workload } from './test-fixtures.js';
import { translate } from './translate.js';

const capture = { inboundPort: 15006, outboundPort: 15001 };

function chain(l: Listener | undefined, name: string): string {
  const c: FilterChain | undefined = l?.filterChains.find((x) => x.name === name);
  const f = c?.filters.at(-1);
  if (!c || !f) return 'none';
  const tcpTarget = (t: { cluster?: string; weightedClusters?: { clusters: { name: string; weight: number }[] } }) =>
    t.cluster ?? t.weightedClusters!.clusters.map((w) => `${w.name}*${w.weight}`).join(' ');
  const target = f.name === 'envoy.filters.network.tcp_proxy' ? `tcp -> ${tcpTarget(f.typedConfig)}` : `http -> ${f.typedConfig.rds?.routeConfigName}`;
  const m = c.filterChainMatch;
  const ip = m?.prefixRanges?.map((p) => `${p.addressPrefix}/${p.prefixLen.value}`).join(',') ?? '*';
  return `${ip}:${m?.destinationPort?.value ?? '*'}${m?.applicationProtocols ? ` [${m.applicationProtocols.join(',')}]` : ''} ${target}`;
}

function mesh(outboundPolicy: 'PassThrough' | 'Refuse' = 'PassThrough') {
  return {
    ...input({
      services: [service('payments'), service('db', { ports: [{ port: 5432, appProtocol: 'tcp' }] }), service('greeter', { ports: [{ port: 9000, appProtocol: 'grpc' }] })],
      workloads: [workload('pay-1', 'payments', { address: '10.0.0.7', inbound: [{ port: 8080, appPort: 8080 }] })],
      meshConfig: { outboundPolicy, protocolDetectionTimeoutMs: 300 },
    }),
    virtualIps: new Map([
      ['default/payments', '240.240.0.10'],
      ['default/db', '240.240.0.11'],
      ['default/greeter', '240.240.0.12'],
    ]),
  };
}

test('the outbound capture listener routes by VIP and by endpoint address; http ports detect, tcp ports do not', () => {
  const s = translate(mesh(), proxy('c-1', 'client', { address: '10.0.0.2', inbound: [{ port: 3000, appPort: 3000 }], capture }));
  const out = s.listeners.get('virtualOutbound');
  assert.deepEqual(out?.address, { socketAddress: { address: '::', portValue: 15001, ipv4Compat: true } });
  assert.equal(out?.useOriginalDst?.value, true);
  assert.equal(out?.continueOnListenerFiltersTimeout, true);
  assert.deepEqual(out?.listenerFiltersTimeout, { seconds: 0, nanos: 300_000_000 });
  assert.equal(chain(out, 'outbound|240.240.0.10:8080|http'), '240.240.0.10/32:8080 [http/1.1,h2c] http -> outbound|payments.default:8080');
  assert.equal(chain(out, 'outbound|240.240.0.10:8080|tcp'), '240.240.0.10/32:8080 tcp -> outbound|8080||payments.default');
  assert.equal(chain(out, 'outbound|10.0.0.7:8080|endpoint'), '10.0.0.7/32:8080 tcp -> PassthroughCluster|8080|payments.default', 'an endpoint address goes to that endpoint');
  assert.equal(chain(out, 'outbound|240.240.0.11:5432|tcp'), '240.240.0.11/32:5432 tcp -> outbound|5432||db.default');
  assert.equal(chain(out, 'outbound|240.240.0.11:5432|http'), 'none', 'a declared tcp port skips detection');
  assert.equal(chain(out, 'outbound|240.240.0.12:9000|http'), '240.240.0.12/32:9000 http -> outbound|greeter.default:9000');
  assert.equal(
    out?.defaultFilterChain?.filters[0]?.typedConfig && 'cluster' in out.defaultFilterChain.filters[0].typedConfig ? out.defaultFilterChain.filters[0].typedConfig.cluster : '',
    'PassthroughCluster',
  );
  assert.equal(s.listeners.has('inbound|3000'), false, 'no per-port inbound listener in transparent mode');
  assert.equal(s.clusters.get('PassthroughCluster')?.type, 'ORIGINAL_DST');
  assert.deepEqual(structToJson(s.clusters.get('outbound|8080||payments.default')?.metadata?.filterMetadata?.trellis).vip, '240.240.0.10');
  assert.deepEqual(checkSnapshot(s), []);
  // Every listener encodes as an Envoy Listener (the listener filter types are loaded).
  for (const l of s.listeners.values()) assert.ok(encodeMessage(LISTENER, l).length > 0);
});

test('with the Refuse policy the default chain goes to the BlackHoleCluster', () => {
  const s = translate(mesh('Refuse'), proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  const def = s.listeners.get('virtualOutbound')?.defaultFilterChain?.filters[0]?.typedConfig;
  assert.equal(def && 'cluster' in def ? def.cluster : undefined, 'BlackHoleCluster');
  assert.deepEqual(s.clusters.get('BlackHoleCluster')?.loadAssignment?.endpoints, []);
  assert.deepEqual(checkSnapshot(s), []);
});

test('the inbound capture listener has a chain per inbound port and passes other ports through', () => {
  const s = translate(mesh(), proxy('pay-1', 'payments', { address: '10.0.0.7', inbound: [{ port: 8080, appPort: 8080 }], capture }));
  const inb = s.listeners.get('virtualInbound');
  assert.deepEqual(inb?.address, { socketAddress: { address: '::', portValue: 15006, ipv4Compat: true } });
  assert.equal(chain(inb, 'inbound|8080|http'), '*:8080 [http/1.1,h2c] http -> inbound|8080');
  assert.equal(chain(inb, 'inbound|8080|tcp'), '*:8080 tcp -> inbound|8080');
  assert.ok(s.routes.has('inbound|8080'));
  assert.deepEqual(checkSnapshot(s), []);
});

test('a proxy without capture ports gets no capture listeners or policy clusters', () => {
  const s = translate(mesh(), proxy('c-1', 'client'));
  assert.equal(s.listeners.has('virtualOutbound'), false);
  assert.equal(s.clusters.has('PassthroughCluster'), false);
});

/** One chain's TLS, transport match and RBAC actions, for the mTLS tests below. */
function security(l: Listener | undefined, name: string): string {
  const c = l?.filterChains.find((x) => x.name === name);
  if (!c) return 'none';
  const f = c.filters.at(-1)!;
  const rbac =
    f.name === 'envoy.filters.network.tcp_proxy'
      ? c.filters.slice(0, -1).map((x) => (x.typedConfig as unknown as { rules: { action: string } }).rules.action)
      : (f.typedConfig as { httpFilters: { typedConfig: { rules?: { action: string } } }[] }).httpFilters.flatMap((h) => (h.typedConfig.rules ? [h.typedConfig.rules.action] : []));
  const tls = c.transportSocket ? 'mtls' : 'plaintext';
  return `${tls} ${c.filterChainMatch?.transportProtocol ?? 'any'} rbac[${rbac.join(',')}]`;
}

const denyAll = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'no-web', namespace: 'default' },
  spec: { targetRef: { kind: 'Service', name: 'payments' }, action: 'DENY', rules: [{ from: [{ serviceAccounts: ['web'] }] }] },
} as const;
const secured = (mode: 'STRICT' | 'PERMISSIVE') => ({
  ...mesh(),
  meshConfig: { ...mesh().meshConfig, mtls: { mode }, tracing: { samplingPercent: 5, collector: 'http://127.0.0.1:4318' } },
  security: { trustDomain: 'example.org' },
  authorizationPolicies: [denyAll] as never,
});

test('STRICT: every chain of an inbound port terminates mTLS; HTTP by ALPN, the rest opaque, with authorization and tracing', () => {
  const i = {
    ...secured('STRICT'),
    services: [
      service('payments', {
        ports: [
          { port: 8080, appProtocol: 'http' },
          { port: 5432, appProtocol: 'tcp' },
        ],
      }),
    ],
  };
  const s = translate(
    i,
    proxy('pay-1', 'payments', {
      address: '10.0.0.7',
      inbound: [
        { port: 8080, appPort: 8080 },
        { port: 5432, appPort: 5432 },
      ],
      capture,
    }),
  );
  const inb = s.listeners.get('virtualInbound');
  assert.deepEqual(
    inb?.filterChains.map((c) => c.name),
    ['inbound|5432|mtls', 'inbound|8080|mtls', 'inbound|8080|mtls-http', 'inbound|8080|plaintext-refused'],
    'no plaintext chain',
  );
  assert.equal(chain(inb, 'inbound|8080|mtls-http'), '*:8080 [h2,http/1.1] http -> inbound|8080');
  assert.equal(security(inb, 'inbound|8080|mtls-http'), 'mtls tls rbac[DENY]');
  assert.equal(chain(inb, 'inbound|8080|mtls'), '*:8080 tcp -> inbound|8080');
  assert.equal(security(inb, 'inbound|8080|mtls'), 'mtls tls rbac[DENY]');
  assert.equal(security(inb, 'inbound|8080|plaintext-refused'), 'mtls raw_buffer rbac[DENY]', 'plaintext meets a handshake it fails');
  assert.equal(security(inb, 'inbound|5432|mtls'), 'mtls any rbac[DENY]', 'a declared tcp port: one chain, no detection');
  const hcm = inb?.filterChains.find((c) => c.name === 'inbound|8080|mtls-http')?.filters[0]?.typedConfig as { tracing?: { randomSampling?: { value: number } } };
  assert.equal(hcm.tracing?.randomSampling?.value, 5);
  assert.ok(
    inb?.filterChains.every((c) => c.transportSocket?.typedConfig.commonTlsContext),
    'the workload certificate and the mesh roots',
  );
  assert.deepEqual(checkSnapshot(s), []);
  for (const l of s.listeners.values()) assert.ok(encodeMessage(LISTENER, l).length > 0);
});

test('PERMISSIVE: a ClientHello goes to the mTLS chain, plaintext to the detected chains; a tcp port gets network RBAC', () => {
  const i = {
    ...secured('PERMISSIVE'),
    services: [
      service('payments', {
        ports: [
          { port: 8080, appProtocol: 'http' },
          { port: 5432, appProtocol: 'tcp' },
        ],
      }),
    ],
  };
  const s = translate(
    i,
    proxy('pay-1', 'payments', {
      address: '10.0.0.7',
      inbound: [
        { port: 8080, appPort: 8080 },
        { port: 5432, appPort: 5432 },
      ],
      capture,
    }),
  );
  const inb = s.listeners.get('virtualInbound');
  assert.equal(security(inb, 'inbound|8080|mtls-http'), 'mtls tls rbac[DENY]');
  assert.equal(security(inb, 'inbound|8080|mtls'), 'mtls tls rbac[DENY]');
  assert.equal(security(inb, 'inbound|8080|http'), 'plaintext raw_buffer rbac[DENY]');
  assert.equal(security(inb, 'inbound|8080|tcp'), 'plaintext raw_buffer rbac[DENY]');
  assert.equal(chain(inb, 'inbound|5432|mtls'), '*:5432 tcp -> inbound|5432');
  assert.equal(security(inb, 'inbound|5432|mtls'), 'mtls tls rbac[DENY]');
  assert.equal(security(inb, 'inbound|5432|tcp'), 'plaintext raw_buffer rbac[DENY]');
  assert.deepEqual(checkSnapshot(s), []);
});

test("with mTLS on, a caller in transparent mode dials the Service's workloads with TLS and expects their identity", () => {
  const i = { ...secured('STRICT'), workloads: [workload('pay-1', 'payments', { address: '10.0.0.7', inbound: [{ port: 8080, appPort: 8080 }], capture })] };
  const s = translate(i, proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  const tls = s.clusters.get('outbound|8080||payments.default')?.transportSocket?.typedConfig as {
    commonTlsContext: { combinedValidationContext: { defaultValidationContext: { matchTypedSubjectAltNames: { matcher: { exact: string } }[] } } };
  };
  assert.deepEqual(
    tls.commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames.map((m) => m.matcher.exact),
    ['spiffe://example.org/ns/default/sa/payments'],
  );
  const out = s.listeners.get('virtualOutbound');
  const hcm = out?.filterChains.find((c) => c.name === 'outbound|240.240.0.10:8080|http')?.filters[0]?.typedConfig as { tracing?: unknown };
  assert.ok(hcm.tracing, 'outbound capture HTTP chains trace too');
});

// Regression (issue 10, item 4): under STRICT a port no Service declares answered plaintext.
test('STRICT: a port no inbound entry names takes mTLS only, authorized as TCP, then goes on to its original destination', () => {
  const s = translate(secured('STRICT'), proxy('pay-1', 'payments', { address: '10.0.0.7', inbound: [{ port: 8080, appPort: 8080 }], capture }));
  const def = s.listeners.get('virtualInbound')?.defaultFilterChain;
  assert.equal(def?.name, 'inbound|PassthroughCluster|mtls');
  assert.ok(def?.transportSocket?.typedConfig.commonTlsContext, 'the default chain terminates mTLS');
  assert.deepEqual(
    def?.filters.map((f) => f.name),
    ['envoy.filters.network.rbac', 'envoy.filters.network.tcp_proxy'],
    "the Service's policies apply to its undeclared ports too",
  );
  assert.equal((def?.filters.at(-1)?.typedConfig as { cluster?: string }).cluster, 'PassthroughCluster');
  assert.deepEqual(checkSnapshot(s), []);
  for (const l of s.listeners.values()) assert.ok(encodeMessage(LISTENER, l).length > 0);
});

test('PERMISSIVE and mTLS off: a port no inbound entry names is passed through as before', () => {
  for (const i of [secured('PERMISSIVE'), mesh()]) {
    const s = translate(i, proxy('pay-1', 'payments', { address: '10.0.0.7', inbound: [{ port: 8080, appPort: 8080 }], capture }));
    const def = s.listeners.get('virtualInbound')?.defaultFilterChain;
    assert.equal(def?.name, 'inbound|PassthroughCluster');
    assert.equal(def?.transportSocket, undefined);
  }
});

test("a caller reaches any other port of a STRICT captured workload by its address over mTLS, expecting that workload's identity", () => {
  const workloads = [
    workload('pay-1', 'payments', { address: '10.0.0.7', inbound: [{ port: 8080, appPort: 8080 }], capture }),
    workload('legacy-1', 'payments', { address: '10.0.0.8', inbound: [{ port: 8080, appPort: 8080 }] }), // explicit mode: not captured
  ];
  const s = translate({ ...secured('STRICT'), workloads }, proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  const out = s.listeners.get('virtualOutbound');
  assert.equal(chain(out, 'outbound|10.0.0.7|undeclared'), '10.0.0.7/32:* tcp -> PassthroughCluster|payments.default');
  assert.equal(
    chain(out, 'outbound|10.0.0.7:8080|endpoint'),
    '10.0.0.7/32:8080 tcp -> PassthroughCluster|8080|payments.default',
    'declared ports keep their own chains (a port match wins)',
  );
  assert.equal(chain(out, 'outbound|10.0.0.8|undeclared'), 'none', 'a workload that is not captured takes no mTLS on other ports');
  const c = s.clusters.get('PassthroughCluster|payments.default');
  assert.equal(c?.type, 'ORIGINAL_DST');
  const tls = c?.transportSocket?.typedConfig as {
    commonTlsContext: { combinedValidationContext: { defaultValidationContext: { matchTypedSubjectAltNames: { matcher: { exact: string } }[] } } };
  };
  assert.deepEqual(
    tls.commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames.map((m) => m.matcher.exact),
    ['spiffe://example.org/ns/default/sa/payments'],
  );
  assert.deepEqual(checkSnapshot(s), []);
  // A port its operator excluded from capture is plaintext: the application answers it itself.
  const excluding = [workload('pay-1', 'payments', { address: '10.0.0.7', inbound: [{ port: 8080, appPort: 8080 }], capture: { ...capture, excludeInboundPorts: [9191] } })];
  const e = translate({ ...secured('STRICT'), workloads: excluding }, proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  assert.equal(chain(e.listeners.get('virtualOutbound'), 'outbound|10.0.0.7:9191|excluded'), '10.0.0.7/32:9191 tcp -> PassthroughCluster');
  assert.equal(chain(e.listeners.get('virtualOutbound'), 'outbound|10.0.0.7|undeclared'), '10.0.0.7/32:* tcp -> PassthroughCluster|payments.default');
  // PERMISSIVE workloads and meshes without mTLS keep plaintext passthrough.
  const permissive = translate({ ...secured('PERMISSIVE'), workloads }, proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  assert.equal(chain(permissive.listeners.get('virtualOutbound'), 'outbound|10.0.0.7|undeclared'), 'none');
  assert.equal(permissive.clusters.has('PassthroughCluster|payments.default'), false);
});

/** A TCPRoute in `namespace` on `parent:port`, splitting among `[name, weight]` backends in default. */
function tcpRoute(name: string, parent: string, port: number, backends: [string, number][], namespace = 'default'): TCPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name, namespace },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: parent, namespace: 'default', port }],
      rules: [{ backendRefs: backends.map(([b, w]) => backend(b, port, w, 'default')) }],
    },
  };
}

function routed(tcpRoutes: TCPRoute[]) {
  const tcp = (name: string) => service(name, { ports: [{ port: 5432, appProtocol: 'tcp' }] });
  return {
    ...input({
      services: [tcp('db'), tcp('db-a'), tcp('db-b'), service('payments')],
      workloads: [workload('db-1', 'db', { address: '10.0.0.9', inbound: [{ port: 5432, appPort: 5432 }] })],
      tcpRoutes,
    }),
    virtualIps: new Map([
      ['default/db', '240.240.0.11'],
      ['default/db-a', '240.240.0.13'],
      ['default/db-b', '240.240.0.14'],
      ['default/payments', '240.240.0.10'],
    ]),
  };
}

test('a TCPRoute splits the outbound capture chains of a tcp port (virtual IP) as in explicit mode', () => {
  const i = routed([
    tcpRoute('db', 'db', 5432, [
      ['db-a', 90],
      ['db-b', 10],
      ['ghost', 5],
    ]),
  ]);
  const s = translate(i, proxy('c-1', 'client', { address: '10.0.0.2', capture, upstreams: [{ service: 'db', namespace: 'default', port: 5432, localPort: 9001 }] }));
  const out = s.listeners.get('virtualOutbound');
  const split = 'tcp -> outbound|5432||db-a.default*90 outbound|5432||db-b.default*10';
  assert.equal(chain(out, 'outbound|240.240.0.11:5432|tcp'), `240.240.0.11/32:5432 ${split}`);
  assert.equal(chain(out, 'outbound|10.0.0.9:5432|endpoint'), '10.0.0.9/32:5432 tcp -> PassthroughCluster|5432|db.default', 'an endpoint address is not routed');
  assert.equal(chain(out, 'outbound|240.240.0.13:5432|tcp'), '240.240.0.13/32:5432 tcp -> outbound|5432||db-a.default', 'a backend Service keeps its own chain');
  // The same weights as the explicit-mode listener of the same proxy: one mechanism.
  assert.deepEqual(out?.filterChains.find((c) => c.name === 'outbound|240.240.0.11:5432|tcp')?.filters[0]?.typedConfig, {
    ...s.listeners.get('outbound|127.0.0.1:9001')!.filterChains[0]!.filters[0]!.typedConfig,
  });
  assert.equal(s.warnings.filter((w) => w.includes('TCPRoute default/db rules[0].backendRefs[2]: Service default/ghost does not exist')).length, 1, s.warnings.join('\n'));
  assert.deepEqual(checkSnapshot(s), []);
  for (const l of s.listeners.values()) assert.ok(encodeMessage(LISTENER, l).length > 0);
});

test('a consumer TCPRoute splits the capture chains of callers in its namespace only', () => {
  const i = routed([tcpRoute('db-canary', 'db', 5432, [['db-b', 1]], 'team')]);
  const team = translate(i, proxy('c-1', 'client', { namespace: 'team', address: '10.0.0.2', capture }));
  assert.equal(chain(team.listeners.get('virtualOutbound'), 'outbound|240.240.0.11:5432|tcp'), '240.240.0.11/32:5432 tcp -> outbound|5432||db-b.default');
  const other = translate(i, proxy('c-2', 'client', { address: '10.0.0.3', capture }));
  assert.equal(chain(other.listeners.get('virtualOutbound'), 'outbound|240.240.0.11:5432|tcp'), '240.240.0.11/32:5432 tcp -> outbound|5432||db.default');
});

test('a TCPRoute on an http port leaves its opaque fallback chain to the Service itself', () => {
  const i = routed([tcpRoute('pay', 'payments', 8080, [['db-a', 1]])]);
  const s = translate(i, proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  const out = s.listeners.get('virtualOutbound');
  assert.equal(chain(out, 'outbound|240.240.0.10:8080|tcp'), '240.240.0.10/32:8080 tcp -> outbound|8080||payments.default');
  assert.equal(chain(out, 'outbound|240.240.0.10:8080|http'), '240.240.0.10/32:8080 [http/1.1,h2c] http -> outbound|payments.default:8080');
});

test('regression issue 12: a TCPRoute on an http port, or on a Service without a tcp port, is a warning on every proxy (explicit mode too)', () => {
  const i = routed([
    tcpRoute('pay', 'payments', 8080, [['db-a', 1]]),
    {
      ...tcpRoute('any-port', 'payments', 8080, [['db-a', 1]]),
      spec: { ...tcpRoute('x', 'payments', 8080, [['db-a', 1]]).spec, parentRefs: [{ group: '', kind: 'Service', name: 'payments' }] },
    },
    tcpRoute('db-ok', 'db', 5432, [['db-a', 1]]),
  ]);
  for (const p of [proxy('c-1', 'client', { address: '10.0.0.2', capture }), proxy('c-2', 'client')]) {
    const s = translate(i, p);
    assert.deepEqual(
      s.warnings.filter((w) => w.startsWith('TCPRoute')),
      [
        'TCPRoute default/pay parentRefs[0]: port 8080 of payments.default is http, not tcp; the route is ignored there (route HTTP with an HTTPRoute or GRPCRoute)',
        'TCPRoute default/any-port parentRefs[0]: payments.default has no tcp port (8080 http); the route is ignored',
      ],
    );
  }
});

test('regression issue 12: HTTPRoutes route what is addressed to the Service (its virtual IP), not a connection to one of its endpoints', () => {
  const withRoute = {
    ...mesh(),
    services: [...mesh().services, service('payments-v2', { selector: { app: 'payments', version: 'v2' } })],
    httpRoutes: [httpRoute('to-v2', [{ name: 'payments' }], [{ backendRefs: [backend('payments-v2')] }])],
  };
  const s = translate(withRoute, proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  const out = s.listeners.get('virtualOutbound');
  assert.equal(chain(out, 'outbound|240.240.0.10:8080|http'), '240.240.0.10/32:8080 [http/1.1,h2c] http -> outbound|payments.default:8080');
  const table = s.routes.get('outbound|payments.default:8080')!;
  assert.equal(table.virtualHosts[0]!.routes[0]!.route!.cluster, 'outbound|8080||payments-v2.default', 'the route applies on the virtual IP');
  // The endpoint address: one opaque chain to that endpoint, no route table, no detection.
  assert.equal(chain(out, 'outbound|10.0.0.7:8080|endpoint'), '10.0.0.7/32:8080 tcp -> PassthroughCluster|8080|payments.default');
  assert.equal(chain(out, 'outbound|10.0.0.7:8080|http'), 'none');
  const c = s.clusters.get('PassthroughCluster|8080|payments.default');
  assert.deepEqual([c?.type, c?.lbPolicy, c?.transportSocket], ['ORIGINAL_DST', 'CLUSTER_PROVIDED', undefined], 'mTLS off: plaintext to the endpoint');
  assert.deepEqual(checkSnapshot(s), []);
  // With mTLS on, the endpoint cluster expects the identities of the Service's workloads, as the Service's own cluster does.
  const secure = translate({ ...withRoute, security: { trustDomain: 'example.org' } }, proxy('c-1', 'client', { address: '10.0.0.2', capture }));
  assert.deepEqual(secure.clusters.get('PassthroughCluster|8080|payments.default')?.transportSocket, secure.clusters.get('outbound|8080||payments.default')?.transportSocket);
  assert.ok(secure.clusters.get('PassthroughCluster|8080|payments.default')?.transportSocket);
  // Explicit mode has no endpoint chains and no endpoint clusters.
  assert.equal(
    [...translate(withRoute, proxy('c-2', 'client')).clusters.keys()].some((n) => n.startsWith('PassthroughCluster|')),
    false,
  );
});
