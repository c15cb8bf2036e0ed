// A proxyless gRPC node's snapshot, checked by grpc-js-xds 1.14's own resource validators on
// the encoded protos (what a real client decides to ACK or NACK), and field by field.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parseTrafficPolicy } from '../../api/traffic-policy.js';
import type { GRPCRoute, TrafficPolicy } from '../../api/resource.js';
import type { Snapshot, TranslatorInput } from './types.js';
import { encodeMessage } from '../../xds/protos.js';
import { GRPC_CERT_PROVIDER_INSTANCE } from '../../xds/proxyless-grpc.js';
import { CLUSTER, CLUSTER_LOAD_ASSIGNMENT, CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER, LISTENER_TYPE, ROUTE_CONFIGURATION, ROUTE_TYPE } from '../../xds/type-urls.js';
import { checkSnapshot } from './consistency.js';
import { backend, httpRoute, input, proxy, service, workload } from './test-fixtures.js';
import { proxylessRouteTable } from './proxyless-routes.js';
import { translate } from './translate.js';

const require = createRequire(import.meta.url);
interface Decoded {
  name: string;
  value?: Record<string, unknown>;
  error?: string;
}
interface ResourceType {
  decode(context: object, resource: { type_url: string; value: Uint8Array }): Decoded;
}
const typeOf = (file: string, name: string): ResourceType =>
  (require(`@grpc/grpc-js-xds/build/src/xds-resource-type/${file}.js`) as Record<string, { get(): ResourceType }>)[name]!.get();
// The HTTP filters and load balancers validation looks up are registered by grpc-js-xds's register().
(require('@grpc/grpc-js-xds') as { register(): void }).register();
const VALIDATORS = [
  { typeUrl: LISTENER_TYPE, message: LISTENER, type: typeOf('listener-resource-type', 'ListenerResourceType'), of: (s: Snapshot) => s.listeners },
  { typeUrl: ROUTE_TYPE, message: ROUTE_CONFIGURATION, type: typeOf('route-config-resource-type', 'RouteConfigurationResourceType'), of: (s: Snapshot) => s.routes },
  { typeUrl: CLUSTER_TYPE, message: CLUSTER, type: typeOf('cluster-resource-type', 'ClusterResourceType'), of: (s: Snapshot) => s.clusters },
  { typeUrl: ENDPOINT_TYPE, message: CLUSTER_LOAD_ASSIGNMENT, type: typeOf('endpoint-resource-type', 'EndpointResourceType'), of: (s: Snapshot) => s.endpoints },
];
// What a bootstrap written by `trellis bootstrap --grpc` declares.
const CONTEXT = { bootstrap: { certificateProviders: { [GRPC_CERT_PROVIDER_INSTANCE]: { plugin_name: 'file_watcher', config: {} } } }, server: {} };

/** Every resource of the snapshot as grpc-js-xds decodes it; fails with its NACK message when it would refuse one. */
function acceptedByGrpc(s: Snapshot): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const v of VALIDATORS) {
    for (const [name, resource] of v.of(s)) {
      const decoded = v.type.decode(CONTEXT, { type_url: `type.googleapis.com/${v.message}`, value: encodeMessage(v.message, resource) });
      assert.equal(decoded.error, undefined, `grpc-js-xds refuses ${v.message} ${name}: ${decoded.error}`);
      assert.equal(decoded.name, name);
      out.set(`${v.typeUrl === LISTENER_TYPE ? 'lds' : v.typeUrl === ROUTE_TYPE ? 'rds' : v.typeUrl === CLUSTER_TYPE ? 'cds' : 'eds'}:${name}`, decoded.value!);
    }
  }
  return out;
}

function policy(name: string, spec: Record<string, unknown>): TrafficPolicy {
  const r = parseTrafficPolicy({ apiVersion: 'trellis.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name }, spec });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

const grpcService = (name: string, namespace = 'default') => service(name, { namespace, ports: [{ port: 9000, appProtocol: 'grpc' }] });
const grpcClient = (listenerNames: string[], namespace = 'default') => ({
  ...proxy('app-1', 'client', { kind: 'grpc', namespace, inbound: [], adminPort: undefined }),
  listenerNames,
});

test('a proxyless client asking for a target gets its API listener, route table, EDS cluster and endpoints, all accepted by grpc-js-xds', () => {
  const mesh = input({ services: [grpcService('greeter')], workloads: [workload('g1', 'greeter', { address: '10.0.0.2', inbound: [{ port: 9000, appPort: 9000 }] })] });
  const s = translate(mesh, grpcClient(['greeter']));
  assert.deepEqual([...s.listeners.keys()], ['greeter']);
  assert.deepEqual([...s.routes.keys()], ['outbound|greeter.default:9000']);
  assert.deepEqual([...s.clusters.keys()], ['outbound|9000||greeter.default'], 'the same cluster name as sidecars, so EDS is shared');
  assert.deepEqual(checkSnapshot(s), []);
  assert.deepEqual(s.warnings, []);
  const got = acceptedByGrpc(s);
  const hcm = s.listeners.get('greeter')!.apiListener!.apiListener;
  assert.deepEqual(hcm.rds.routeConfigName, 'outbound|greeter.default:9000');
  assert.deepEqual(
    hcm.httpFilters.map((f) => f.name),
    ['envoy.filters.http.router'],
  );
  const eds = got.get('eds:outbound|9000||greeter.default') as { endpoints: { load_balancing_weight: { value: number }; lb_endpoints: unknown[] }[] };
  assert.equal(eds.endpoints[0]!.load_balancing_weight.value, 1, 'a locality without a weight is skipped by gRPC');
  assert.equal(eds.endpoints[0]!.lb_endpoints.length, 1);
  assert.equal((got.get('cds:outbound|9000||greeter.default') as { type: string }).type, 'EDS');
});

test('listener names: short, namespaced, DNS forms and ports; an unknown name is absent with a warning and does not break the others', () => {
  const mesh = input({
    services: [
      grpcService('greeter'),
      grpcService('store', 'shop'),
      service('multi', { ports: [{ port: 80 }, { port: 81 }] }),
      service('raw', { ports: [{ port: 5432, appProtocol: 'tcp' }] }),
    ],
  });
  const names = ['greeter', 'greeter:9000', 'store.shop', 'store.shop.svc.cluster.local:9000', 'greeter.mesh', 'multi:81', 'multi', 'nothing', 'greeter:1', 'raw'];
  const s = translate(mesh, grpcClient(names));
  assert.deepEqual([...s.listeners.keys()], ['greeter', 'greeter.mesh', 'greeter:9000', 'multi:81', 'store.shop', 'store.shop.svc.cluster.local:9000']);
  assert.equal(s.listeners.get('store.shop')!.apiListener!.apiListener.rds.routeConfigName, 'outbound|store.shop:9000');
  assert.equal(s.listeners.get('multi:81')!.apiListener!.apiListener.rds.routeConfigName, 'outbound|multi.default:81');
  assert.deepEqual(
    s.warnings.filter((w) => w.startsWith('listener')),
    [
      'listener "multi": Service multi.default has 2 ports (80, 81); name one as multi.default:<port>; not sent (the gRPC client reports that the resource does not exist)',
      'listener "nothing": Service default/nothing does not exist; not sent (the gRPC client reports that the resource does not exist)',
      'listener "greeter:1": Service greeter.default has no port 1 (it has 9000); not sent (the gRPC client reports that the resource does not exist)',
      'listener "raw": port 5432 of Service raw.default is tcp; a gRPC channel needs an HTTP/2 or gRPC port; not sent (the gRPC client reports that the resource does not exist)',
    ],
  );
  acceptedByGrpc(s);
  assert.deepEqual(checkSnapshot(s), []);
  // The caller's namespace is the default one.
  assert.deepEqual([...translate(mesh, grpcClient(['store'], 'shop')).listeners.keys()], ['store']);
});

const route = (rules: GRPCRoute['spec']['rules']): GRPCRoute => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GRPCRoute',
  metadata: { name: 'g', namespace: 'default' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'greeter' }], rules },
});

test('a GRPCRoute: method and header matches and a weighted split, in the forms gRPC matches', () => {
  const r = route([
    { matches: [{ method: { type: 'Exact', service: 'test.Echo', method: 'Unary' } }], backendRefs: [backend('greeter-v2', 9000)] },
    { matches: [{ method: { type: 'Exact', service: 'test.Echo' }, headers: [{ type: 'Exact', name: 'X-Canary', value: 'yes' }] }], backendRefs: [backend('greeter-v2', 9000)] },
    { matches: [], backendRefs: [backend('greeter-v1', 9000, 80), backend('greeter-v2', 9000, 20)] },
  ]);
  const s = translate(input({ services: [grpcService('greeter'), grpcService('greeter-v1'), grpcService('greeter-v2')], grpcRoutes: [r] }), grpcClient(['greeter']));
  const got = acceptedByGrpc(s);
  const routes = s.routes.get('outbound|greeter.default:9000')!.virtualHosts[0]!.routes;
  assert.deepEqual(
    routes.map((x) => x.match),
    [{ path: '/test.Echo/Unary' }, { safeRegex: { regex: '/test\\.Echo(/.*)?' }, headers: [{ name: 'x-canary', stringMatch: { exact: 'yes' } }] }, { prefix: '/' }],
  );
  assert.deepEqual(routes[2]!.route!.weightedClusters, {
    clusters: [
      { name: 'outbound|9000||greeter-v1.default', weight: { value: 80 } },
      { name: 'outbound|9000||greeter-v2.default', weight: { value: 20 } },
    ],
  });
  assert.deepEqual([...s.clusters.keys()], ['outbound|9000||greeter-v1.default', 'outbound|9000||greeter-v2.default']);
  assert.ok(got.has('cds:outbound|9000||greeter-v1.default'));
  assert.deepEqual(s.warnings, []);
});

test('HTTPRoute matches gRPC calls cannot meet (another method, query parameters) and redirects are left out with warnings; header changes and mirrors are dropped', () => {
  const h = httpRoute(
    'h',
    [{ name: 'greeter' }],
    [
      { matches: [{ path: { type: 'PathPrefix', value: '/' }, method: 'GET' }], backendRefs: [backend('greeter-v2', 9000)] },
      { matches: [{ path: { type: 'PathPrefix', value: '/' }, queryParams: [{ type: 'Exact', name: 'v', value: '2' }] }], backendRefs: [backend('greeter-v2', 9000)] },
      {
        matches: [{ path: { type: 'PathPrefix', value: '/' }, method: 'POST', headers: [{ type: 'Exact', name: 'x-a', value: '1' }] }],
        backendRefs: [backend('greeter-v2', 9000)],
      },
      { matches: [], backendRefs: [backend('greeter-v1', 9000)] },
    ],
  );
  h.spec.rules[3]!.filters = [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-b', value: '2' }] } },
    { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'greeter-v2', port: 9000 } } },
  ];
  const s = translate(input({ services: [grpcService('greeter'), grpcService('greeter-v1'), grpcService('greeter-v2')], httpRoutes: [h] }), grpcClient(['greeter']));
  acceptedByGrpc(s);
  const routes = s.routes.get('outbound|greeter.default:9000')!.virtualHosts[0]!.routes;
  assert.deepEqual(
    routes.map((r) => [r.match, r.route!.cluster]),
    [
      [{ prefix: '/', headers: [{ name: 'x-a', stringMatch: { exact: '1' } }] }, 'outbound|9000||greeter-v2.default'],
      [{ prefix: '/' }, 'outbound|9000||greeter-v1.default'],
    ],
  );
  assert.equal(routes[1]!.requestHeadersToAdd, undefined);
  assert.equal(routes[1]!.route!.requestMirrorPolicies, undefined);
  const w = s.warnings.join('\n');
  assert.match(w, /matches method GET, and gRPC calls are POST; the route is left out/);
  assert.match(w, /matches query parameters, which gRPC calls never carry; the route is left out/);
  assert.match(w, /header changes \(requestHeadersToAdd\) are not made by proxyless gRPC clients/);
  assert.match(w, /request mirroring is not done by proxyless gRPC clients/);
});

test('a TrafficPolicy: retries as gRPC status names, timeout as max_stream_duration, fault filter before the router, ring hash on a header, outlier detection and max requests', () => {
  const p = policy('greeter', {
    targetRef: { name: 'greeter' },
    loadBalancer: { type: 'RingHash', hashOn: { header: 'X-User' } },
    timeouts: { request: '2s', perTry: '500ms' },
    retry: { attempts: 3, on: ['connect-failure'], grpcCodes: ['UNAVAILABLE', 'RESOURCE_EXHAUSTED'], backoff: { base: '25ms', max: '250ms' }, nonIdempotent: true },
    circuitBreaker: { maxRequests: 200, maxConnections: 10 },
    outlierDetection: { interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50, failureRate: { threshold: 50, minimumRequests: 10 } },
    faultInjection: { abort: { grpcStatus: 14, percent: 10 }, delay: { fixedDelay: '100ms', percent: 5 } },
    rateLimit: { requests: 100, per: '1s' },
  });
  const s = translate(input({ services: [grpcService('greeter')], workloads: [workload('g1', 'greeter')], trafficPolicies: [p] }), grpcClient(['greeter']));
  const got = acceptedByGrpc(s);
  const hcm = s.listeners.get('greeter')!.apiListener!.apiListener;
  assert.deepEqual(
    hcm.httpFilters.map((f) => f.name),
    ['envoy.filters.http.fault', 'envoy.filters.http.router'],
  );
  const vh = s.routes.get('outbound|greeter.default:9000')!.virtualHosts[0]!;
  assert.deepEqual(vh.retryPolicy, {
    retryOn: 'unavailable,resource-exhausted',
    numRetries: { value: 3 },
    retryBackOff: { baseInterval: { nanos: 25_000_000, seconds: 0 }, maxInterval: { nanos: 250_000_000, seconds: 0 } },
  });
  assert.deepEqual(Object.keys(vh.typedPerFilterConfig ?? {}), ['envoy.filters.http.fault']);
  const action = vh.routes[0]!.route!;
  assert.deepEqual(action.maxStreamDuration, { maxStreamDuration: { seconds: 2 } });
  assert.equal(action.timeout, undefined);
  assert.deepEqual(action.hashPolicy, [{ header: { headerName: 'x-user' } }]);
  const c = s.clusters.get('outbound|9000||greeter.default')!;
  assert.equal(c.lbPolicy, 'RING_HASH');
  assert.deepEqual(c.circuitBreakers, { thresholds: [{ priority: 'DEFAULT', maxRequests: { value: 200 } }] });
  assert.deepEqual(c.outlierDetection, {
    enforcingSuccessRate: { value: 0 },
    interval: { seconds: 5 },
    baseEjectionTime: { seconds: 30 },
    maxEjectionPercent: { value: 50 },
    enforcingFailurePercentage: { value: 100 },
    failurePercentageThreshold: { value: 50 },
    failurePercentageMinimumHosts: { value: 1 },
    failurePercentageRequestVolume: { value: 10 },
  });
  // What grpc-js-xds makes of the cluster: its ring hash balancer, failure-percentage ejection only, the request limit.
  const cds = got.get('cds:outbound|9000||greeter.default') as {
    lbPolicyConfig: object[];
    maxConcurrentRequests: number;
    outlierDetectionUpdate: { success_rate_ejection?: object; failure_percentage_ejection?: { threshold: number; request_volume: number } };
  };
  assert.deepEqual(cds.lbPolicyConfig, [{ ring_hash: { min_ring_size: 1024, max_ring_size: 8388608 } }]);
  assert.equal(cds.maxConcurrentRequests, 200);
  assert.equal(cds.outlierDetectionUpdate.success_rate_ejection, undefined);
  assert.equal(cds.outlierDetectionUpdate.failure_percentage_ejection?.threshold, 50);
  assert.equal(cds.outlierDetectionUpdate.failure_percentage_ejection?.request_volume, 10);
  const w = s.warnings.join('\n');
  assert.match(w, /rate limits are not enforced by proxyless gRPC clients/);
  assert.match(w, /a per-try timeout is not applied by gRPC clients/);
  assert.match(w, /circuit breaker limits maxConnections are not applied/);
});

test('what gRPC 1.14 lacks falls back with a warning: least request to round robin, source-IP hashing to the channel id, consecutive errors, idempotent-only retries', () => {
  const p = (name: string, spec: Record<string, unknown>) => policy(name, { targetRef: { name }, ...spec });
  const s = translate(
    input({
      services: [grpcService('a'), grpcService('b')],
      trafficPolicies: [
        p('a', {
          loadBalancer: { type: 'LeastRequest' },
          outlierDetection: { consecutiveErrors: 3, interval: '1s', baseEjectionTime: '10s', maxEjectionPercent: 100 },
          retry: { attempts: 2, on: ['5xx'] },
        }),
        p('b', { loadBalancer: { type: 'RingHash', hashOn: { sourceIP: true } }, timeouts: { perTry: '1s' } }),
      ],
    }),
    grpcClient(['a', 'b']),
  );
  acceptedByGrpc(s);
  assert.equal(s.clusters.get('outbound|9000||a.default')!.lbPolicy, 'ROUND_ROBIN');
  assert.equal(s.routes.get('outbound|a.default:9000')!.virtualHosts[0]!.retryPolicy, undefined, 'POST is not idempotent: no status retries');
  assert.equal(s.routes.get('outbound|b.default:9000')!.virtualHosts[0]!.retryPolicy, undefined, 'a per-try timeout alone is no retry policy (gRPC refuses num_retries 0)');
  assert.deepEqual(s.routes.get('outbound|b.default:9000')!.virtualHosts[0]!.routes[0]!.route!.hashPolicy, [{ filterState: { key: 'io.grpc.channel_id' } }]);
  const w = s.warnings.join('\n');
  assert.match(w, /load balancer LEAST_REQUEST is not in gRPC 1\.14's xDS client/);
  assert.match(w, /outlier detection by consecutive errors is not done by proxyless gRPC clients/);
  assert.match(w, /only idempotent methods are retried and gRPC calls are POST/);
  assert.match(w, /route table outbound\|b\.default:9000 \(b\.default:9000\) retries: a per-try timeout is not applied by gRPC clients/);
});

test('with mTLS, clusters take the workload certificate and roots from the bootstrap certificate provider and accept the endpoints SPIFFE IDs', () => {
  const mesh = { ...input({ services: [grpcService('greeter')], workloads: [workload('g1', 'greeter')] }), security: { trustDomain: 'example.org' } };
  const s = translate(mesh, grpcClient(['greeter']));
  const got = acceptedByGrpc(s);
  const tls = s.clusters.get('outbound|9000||greeter.default')!.transportSocket!.typedConfig.commonTlsContext;
  assert.deepEqual(tls.tlsCertificateProviderInstance, { instanceName: GRPC_CERT_PROVIDER_INSTANCE });
  assert.deepEqual(tls.validationContext, {
    caCertificateProviderInstance: { instanceName: GRPC_CERT_PROVIDER_INSTANCE },
    matchSubjectAltNames: [{ exact: 'spiffe://example.org/ns/default/sa/greeter' }],
  });
  assert.equal(tls.tlsParams, undefined, 'gRPC refuses tls_params');
  assert.ok(got.get('cds:outbound|9000||greeter.default'));
  // A Service without admitted workloads accepts only its own identity (an empty list would accept any).
  const empty = translate({ ...mesh, workloads: [] }, grpcClient(['greeter']));
  assert.deepEqual(empty.clusters.get('outbound|9000||greeter.default')!.transportSocket!.typedConfig.commonTlsContext.validationContext!.matchSubjectAltNames, [
    { exact: 'spiffe://example.org/ns/default/sa/greeter' },
  ]);
  // Without the provider in the bootstrap, gRPC would refuse it: the validator really checks.
  const cluster = s.clusters.get('outbound|9000||greeter.default')!;
  const refused = typeOf('cluster-resource-type', 'ClusterResourceType').decode(
    { bootstrap: { certificateProviders: {} }, server: {} },
    { type_url: `type.googleapis.com/${CLUSTER}`, value: encodeMessage(CLUSTER, cluster) },
  );
  assert.match(refused.error ?? '', /Unmatched UpstreamTlsContext.tls_certificate_provider_instance.instance_name: trellis/);
});

test('a grpc node that names nothing gets nothing; a sidecar of the same mesh still gets socket listeners, not API listeners', () => {
  const mesh = input({ services: [grpcService('greeter')] });
  const s = translate(mesh, grpcClient([]));
  assert.deepEqual([s.listeners.size, s.routes.size, s.clusters.size, s.endpoints.size], [0, 0, 0, 0]);
  const sidecar = translate(mesh, proxy('c', 'client', { upstreams: [{ service: 'greeter', namespace: 'default', port: 9000, localPort: 9001 }] }));
  assert.deepEqual(
    [...sidecar.listeners.values()].map((l) => [l.name, l.apiListener, l.address?.socketAddress.portValue]),
    [
      ['inbound|15006', undefined, 15006],
      ['outbound|127.0.0.1:9001', undefined, 9001],
    ],
  );
});

test('a retry back-off gRPC would refuse (zero base, maximum below the base) is left to gRPC defaults', () => {
  const table = (backOff: { baseInterval: { seconds?: number; nanos?: number }; maxInterval?: { seconds?: number; nanos?: number } }) => ({
    name: 't',
    virtualHosts: [
      {
        name: 'h',
        domains: ['*'],
        routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'c', retryPolicy: { retryOn: 'unavailable', numRetries: { value: 2 }, retryBackOff: backOff } } }],
      },
    ],
  });
  const rds = typeOf('route-config-resource-type', 'RouteConfigurationResourceType');
  const cases = [
    { backOff: { baseInterval: { seconds: 0 } }, kept: false },
    { backOff: { baseInterval: { seconds: 1 }, maxInterval: { nanos: 500_000_000 } }, kept: false },
    { backOff: { baseInterval: { nanos: 25_000_000 }, maxInterval: { seconds: 1 } }, kept: true },
  ];
  for (const { backOff, kept } of cases) {
    const out = proxylessRouteTable(table(backOff)).table;
    const retry = out.virtualHosts[0]!.routes[0]!.route!.retryPolicy!;
    assert.equal(retry.retryBackOff !== undefined, kept, JSON.stringify(backOff));
    const decoded = rds.decode(CONTEXT, { type_url: `type.googleapis.com/${ROUTE_CONFIGURATION}`, value: encodeMessage(ROUTE_CONFIGURATION, out) });
    assert.equal(decoded.error, undefined);
    // The unchanged input really is refused, so the case tests something.
    const raw = rds.decode(CONTEXT, { type_url: `type.googleapis.com/${ROUTE_CONFIGURATION}`, value: encodeMessage(ROUTE_CONFIGURATION, table(backOff)) });
    assert.equal(raw.error === undefined, kept, raw.error);
  }
});

test('an address listed twice (a restarted workload beside its old node in the grace period) is sent once, the healthy one: gRPC refuses duplicates', () => {
  const at = { address: '10.0.0.2', inbound: [{ port: 9000, appPort: 9000 }] };
  const mesh = input({ services: [grpcService('greeter')], workloads: [workload('g-old', 'greeter', { ...at, connected: false }), workload('g-new', 'greeter', at)] });
  assert.equal(translate(mesh, proxy('c', 'client')).endpoints.get('outbound|9000||greeter.default')!.endpoints[0]!.lbEndpoints.length, 2, 'sidecars get both');
  const s = translate(mesh, grpcClient(['greeter']));
  acceptedByGrpc(s);
  const [only, ...rest] = s.endpoints.get('outbound|9000||greeter.default')!.endpoints[0]!.lbEndpoints;
  assert.equal(rest.length, 0);
  assert.equal(only!.healthStatus, 'HEALTHY');
});

test('with no healthy endpoint (proxies reconnecting after a control-plane restart), the unhealthy ones go as UNKNOWN, which gRPC calls, as sidecars fall back on them', () => {
  const down = (id: string, address: string) => workload(id, 'greeter', { address, inbound: [{ port: 9000, appPort: 9000 }], connected: false });
  const healthOf = (mesh: TranslatorInput) =>
    translate(mesh, grpcClient(['greeter']))
      .endpoints.get('outbound|9000||greeter.default')!
      .endpoints[0]!.lbEndpoints.map((e) => e.healthStatus);
  assert.deepEqual(healthOf(input({ services: [grpcService('greeter')], workloads: [down('g1', '10.0.0.2'), down('g2', '10.0.0.3')] })), ['UNKNOWN', 'UNKNOWN']);
  const oneUp = input({
    services: [grpcService('greeter')],
    workloads: [down('g1', '10.0.0.2'), workload('g2', 'greeter', { address: '10.0.0.3', inbound: [{ port: 9000, appPort: 9000 }] })],
  });
  assert.deepEqual(healthOf(oneUp), ['UNHEALTHY', 'HEALTHY'], 'with a healthy endpoint the others stay UNHEALTHY');
  acceptedByGrpc(translate(oneUp, grpcClient(['greeter'])));
});
