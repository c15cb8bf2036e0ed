// TrafficPolicy and HTTPRoute timeouts/retry in the translator's output, and that every field
// written is a real Envoy field (the resources survive a protobuf round trip unchanged).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrafficPolicy } from '../../api/traffic-policy.js';
import type { TrafficPolicy } from '../../api/resource.js';
import { decodeMessage, encodeMessage } from '../../xds/protos.js';
import { CLUSTER, ROUTE_CONFIGURATION } from '../../xds/type-urls.js';
import { backend, httpRoute, input, proxy, service, workload } from './test-fixtures.js';
import { translate } from './translate.js';

function policy(name: string, spec: Record<string, unknown>, created?: string): TrafficPolicy {
  const r = parseTrafficPolicy({ apiVersion: 'trellis.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name }, spec });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return created ? { ...r.value, metadata: { ...r.value.metadata, creationTimestamp: created } } : r.value;
}

const resilient = policy('payments', {
  targetRef: { name: 'payments' },
  loadBalancer: { type: 'RingHash', hashOn: { header: 'X-User' } },
  timeouts: { connect: '1s', request: '10s', perTry: '2s' },
  retry: { attempts: 3, codes: [503], grpcCodes: ['UNAVAILABLE'], backoff: { base: '25ms' }, budget: { percent: 20 } },
  circuitBreaker: { maxRequests: 200 },
  outlierDetection: { consecutiveErrors: 5, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
  faultInjection: { abort: { httpStatus: 503, percent: 1.5 } },
  rateLimit: { requests: 100, per: '1s' },
});

const client = () => proxy('client-1', 'client', { upstreams: [{ service: 'payments', namespace: 'default', port: 8080, localPort: 9001 }] });

function roundTrips(typeName: string, value: object): void {
  assert.deepEqual(decodeMessage(typeName, encodeMessage(typeName, value)), JSON.parse(JSON.stringify(value)), `${typeName} is not made of real Envoy fields`);
}

test('a TrafficPolicy sets the cluster of its Service: ring hash, connect timeout, circuit breakers, outlier detection', () => {
  const s = translate(input({ services: [service('payments'), service('other')], workloads: [workload('p1', 'payments')], trafficPolicies: [resilient] }), client());
  const c = s.clusters.get('outbound|8080||payments.default')!;
  assert.equal(c.lbPolicy, 'RING_HASH');
  assert.deepEqual(c.connectTimeout, { seconds: 1 });
  assert.deepEqual(c.circuitBreakers, {
    thresholds: [{ priority: 'DEFAULT', maxRequests: { value: 200 }, retryBudget: { budgetPercent: { value: 20 }, minRetryConcurrency: { value: 3 } } }],
  });
  assert.deepEqual(c.outlierDetection, {
    consecutive_5xx: { value: 5 },
    enforcingConsecutive_5xx: { value: 100 },
    interval: { seconds: 5 },
    baseEjectionTime: { seconds: 30 },
    maxEjectionPercent: { value: 50 },
    alwaysEjectOneHost: { value: true },
  });
  roundTrips(CLUSTER, c);
  const other = s.clusters.get('outbound|8080||other.default')!;
  assert.equal(other.lbPolicy, 'ROUND_ROBIN');
  assert.equal(other.circuitBreakers, undefined);
});

test('requests addressed to the Service get its retries, fault and rate limit on the virtual host, its timeout and hash key on the route', () => {
  const s = translate(input({ services: [service('payments')], trafficPolicies: [resilient] }), client());
  const table = s.routes.get('outbound|payments.default:8080')!;
  const vh = table.virtualHosts[0]!;
  assert.deepEqual(vh.retryPolicy, {
    retryOn: 'connect-failure,reset,retriable-status-codes,unavailable',
    numRetries: { value: 3 },
    perTryTimeout: { seconds: 2 },
    retriableStatusCodes: [503],
    retryBackOff: { baseInterval: { seconds: 0, nanos: 25_000_000 } },
    retriableRequestHeaders: [{ name: ':method', stringMatch: { safeRegex: { regex: 'GET|HEAD|OPTIONS|TRACE|PUT|DELETE' } } }],
  });
  assert.deepEqual(Object.keys(vh.typedPerFilterConfig ?? {}), ['envoy.filters.http.fault', 'envoy.filters.http.local_ratelimit']);
  assert.deepEqual(vh.typedPerFilterConfig!['envoy.filters.http.fault'], {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
    abort: { httpStatus: 503, percentage: { numerator: 15_000, denominator: 'MILLION' } },
  });
  const route = vh.routes[0]!;
  assert.deepEqual(route.route!.timeout, { seconds: 10 });
  assert.deepEqual(route.route!.hashPolicy, [{ header: { headerName: 'x-user' } }]);
  roundTrips(ROUTE_CONFIGURATION, table);
});

test("an HTTPRoute rule's timeouts and retry replace the policy's for that rule", () => {
  const route = httpRoute('split', [{ name: 'payments' }], [{ backendRefs: [backend('payments')] }]);
  route.spec.rules[0]!.timeouts = { request: '3s', backendRequest: '500ms' };
  route.spec.rules[0]!.retry = { codes: [502, 503], attempts: 2, backoff: '100ms' };
  const s = translate(input({ services: [service('payments')], httpRoutes: [route], trafficPolicies: [resilient] }), client());
  const table = s.routes.get('outbound|payments.default:8080')!;
  const action = table.virtualHosts[0]!.routes[0]!.route!;
  assert.deepEqual(action.timeout, { seconds: 3 });
  assert.deepEqual(action.retryPolicy, {
    retryOn: 'connect-failure,reset,retriable-status-codes',
    numRetries: { value: 2 },
    perTryTimeout: { seconds: 0, nanos: 500_000_000 },
    retriableStatusCodes: [502, 503],
    retryBackOff: { baseInterval: { seconds: 0, nanos: 100_000_000 } },
    retriableRequestHeaders: [{ name: ':method', stringMatch: { safeRegex: { regex: 'GET|HEAD|OPTIONS|TRACE|PUT|DELETE' } } }],
  });
  assert.deepEqual(action.hashPolicy, [{ header: { headerName: 'x-user' } }], 'the backend is ring hash');
  roundTrips(ROUTE_CONFIGURATION, table);
});

test('without a policy, routes keep no timeout and nothing else changes', () => {
  const s = translate(input({ services: [service('payments')] }), client());
  const vh = s.routes.get('outbound|payments.default:8080')!.virtualHosts[0]!;
  assert.deepEqual(vh, {
    name: 'payments.default:8080',
    domains: ['*'],
    routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'outbound|8080||payments.default', timeout: { seconds: 0 } } }],
  });
});

test('two policies for one Service: the older applies, the other is named in a warning; a policy for no Service is a warning', () => {
  const older = policy('a-older', { targetRef: { name: 'payments' }, loadBalancer: { type: 'Random' } }, '2026-01-01T00:00:00Z');
  const newer = policy('b-newer', { targetRef: { name: 'payments' }, loadBalancer: { type: 'LeastRequest' } }, '2026-02-01T00:00:00Z');
  const dangling = policy('ghost', { targetRef: { name: 'ghost' }, loadBalancer: { type: 'Random' } });
  const s = translate(input({ services: [service('payments')], trafficPolicies: [newer, dangling, older] }), client());
  assert.equal(s.clusters.get('outbound|8080||payments.default')!.lbPolicy, 'RANDOM');
  assert.ok(
    s.warnings.some((w) => w.includes('TrafficPolicy default/b-newer') && w.includes('already has TrafficPolicy a-older')),
    s.warnings.join('\n'),
  );
  assert.ok(
    s.warnings.some((w) => w.includes('TrafficPolicy default/ghost: Service default/ghost does not exist')),
    s.warnings.join('\n'),
  );
});

test('HTTPRoute filters become Envoy route fields; a redirect rule needs no backend', () => {
  const route = httpRoute(
    'shop',
    [{ name: 'payments' }],
    [
      { matches: [{ path: { type: 'PathPrefix', value: '/old' } }], backendRefs: [] },
      { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [backend('payments')] },
    ],
  );
  route.spec.rules[0]!.filters = [
    { type: 'RequestRedirect', requestRedirect: { scheme: 'https', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' }, statusCode: 301 } },
  ];
  route.spec.rules[1]!.filters = [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Env', value: 'prod' }], add: [{ name: 'x-tag', value: 'a' }], remove: ['x-debug'] } },
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
    { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'shadow', port: 8080 }, percent: 10 } },
    { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'ghost', port: 8080 } } },
    { type: 'URLRewrite', urlRewrite: { hostname: 'payments.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
  ];
  const s = translate(input({ services: [service('payments'), service('shadow')], httpRoutes: [route] }), client());
  const table = s.routes.get('outbound|payments.default:8080')!;
  const [old, api] = table.virtualHosts[0]!.routes;
  assert.deepEqual(old, {
    name: 'default/shop/rules[0].matches[0]',
    match: { pathSeparatedPrefix: '/old' },
    redirect: { responseCode: 'MOVED_PERMANENTLY', schemeRedirect: 'https', prefixRewrite: '/new' },
  });
  assert.deepEqual(api!.requestHeadersToAdd, [
    { header: { key: 'x-env', value: 'prod' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    { header: { key: 'x-tag', value: 'a' }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' },
  ]);
  assert.deepEqual(api!.requestHeadersToRemove, ['x-debug']);
  assert.deepEqual(api!.responseHeadersToRemove, ['server']);
  assert.deepEqual(api!.route!.requestMirrorPolicies, [{ cluster: 'outbound|8080||shadow.default', runtimeFraction: { defaultValue: { numerator: 10, denominator: 'HUNDRED' } } }]);
  assert.equal(api!.route!.prefixRewrite, '/v2');
  assert.equal(api!.route!.hostRewriteLiteral, 'payments.internal');
  assert.ok(
    s.warnings.some((w) => w.includes('rules[1].filters[3]: Service default/ghost does not exist; nothing is mirrored there')),
    s.warnings.join('\n'),
  );
  roundTrips(ROUTE_CONFIGURATION, table);
});
