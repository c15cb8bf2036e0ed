// Decoding the resilience fields of routes, virtual hosts and clusters (what the translator
// writes for a TrafficPolicy and HTTPRoute timeouts/retry) after a protobuf round trip, and
// refusing what the proxy does not implement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCluster } from './decode-cluster.js';
import { decodeRouteConfiguration } from './decode-route.js';
import { formatProblems } from './errors.js';
import { edsCluster, wireCluster, wireRoute } from './xds-fixtures.js';

type Obj = Record<string, any>;
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const RL = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const ALWAYS = { defaultValue: { numerator: 100, denominator: 'HUNDRED' }, runtimeKey: 'k' };
const hostRetry = {
  retryOn: 'connect-failure,reset,retriable-status-codes,unavailable',
  numRetries: { value: 3 },
  perTryTimeout: { seconds: 2 },
  retriableStatusCodes: [503],
  retryBackOff: { baseInterval: { nanos: 25_000_000 } },
  retriableRequestHeaders: [{ name: ':method', stringMatch: { safeRegex: { regex: 'GET|HEAD|OPTIONS|TRACE|PUT|DELETE' } } }],
};

function table(vhost: Obj, routes: Obj[]) {
  return decodeRouteConfiguration(wireRoute({ name: 't', virtualHosts: [{ name: 'vh', domains: ['*'], routes, ...vhost }] }));
}
const route = (extra: Obj = {}, action: Obj = {}) => ({ name: 'r', match: { prefix: '/' }, route: { cluster: 'c', ...action }, ...extra });

test("a virtual host's retries, fault and rate limit reach every route that sets none; a route's own replace them", () => {
  const r = table(
    {
      retryPolicy: hostRetry,
      typedPerFilterConfig: {
        'envoy.filters.http.fault': { '@type': FAULT, abort: { httpStatus: 503, percentage: { numerator: 15_000, denominator: 'MILLION' } } },
        'envoy.filters.http.local_ratelimit': {
          '@type': RL,
          statPrefix: 'x',
          tokenBucket: { maxTokens: 100, tokensPerFill: { value: 100 }, fillInterval: { seconds: 1 } },
          filterEnabled: ALWAYS,
          filterEnforced: ALWAYS,
        },
      },
    },
    [
      route({}, { hashPolicy: [{ header: { headerName: 'x-user' } }] }),
      route(
        { name: 'own', typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, delay: { fixedDelay: { seconds: 1 }, percentage: { numerator: 10 } } } } },
        { retryPolicy: { retryOn: '5xx', numRetries: { value: 1 } } },
      ),
    ],
  );
  assert.ok(r.ok, !r.ok ? formatProblems(r.error) : '');
  const [a, b] = r.value.virtualHosts[0]!.routes;
  assert.equal(a!.retry?.numRetries, 3);
  assert.equal(a!.retry?.perTryTimeoutMs, 2000);
  assert.deepEqual(a!.retry?.on, { connectFailure: true, reset: true, fiveXx: false, gatewayError: false, retriableStatus: true, grpcStatuses: [14] });
  assert.deepEqual(a!.retry?.statusCodes, [503]);
  assert.equal(a!.retry?.backoffBaseMs, 25);
  assert.equal(a!.retry?.backoffMaxMs, 250);
  assert.ok(a!.retry?.methods?.test('GET') && !a!.retry.methods.test('POST') && !a!.retry.methods.test('GETX'));
  assert.deepEqual(a!.hash, { type: 'header', name: 'x-user' });
  assert.deepEqual(a!.fault, { abort: { httpStatus: 503, grpcStatus: undefined, perMillion: 15_000 }, headers: [] });
  assert.deepEqual(a!.rateLimit, { maxTokens: 100, tokensPerFill: 100, fillIntervalMs: 1000 });
  assert.equal(b!.retry?.numRetries, 1);
  assert.equal(b!.retry?.on.fiveXx, true);
  assert.deepEqual(b!.fault, { delay: { ms: 1000, perMillion: 100_000 }, headers: [] });
  assert.equal(b!.rateLimit, a!.rateLimit, 'one rate limit config (one bucket) for the whole virtual host');
});

test("a local rate limit that is not enabled limits nothing (Envoy's default)", () => {
  const r = table({}, [
    route({ typedPerFilterConfig: { 'envoy.filters.http.local_ratelimit': { '@type': RL, statPrefix: 'x', tokenBucket: { maxTokens: 1, fillInterval: { seconds: 1 } } } } }),
  ]);
  assert.ok(r.ok, !r.ok ? formatProblems(r.error) : '');
  assert.equal(r.value.virtualHosts[0]!.routes[0]!.rateLimit, undefined);
});

const refused: [string, Obj, Obj, string][] = [
  [
    'an unknown retry condition',
    {},
    route({}, { retryPolicy: { retryOn: 'refused-stream' } }),
    'routes[0].route.retryPolicy.retryOn: retry condition "refused-stream" is not supported',
  ],
  [
    'a backoff max below its base',
    {},
    route({}, { retryPolicy: { retryOn: '5xx', retryBackOff: { baseInterval: { seconds: 1 }, maxInterval: { nanos: 1000 } } } }),
    'maxInterval: must not be below baseInterval',
  ],
  [
    'retriable headers other than :method',
    {},
    route({}, { retryPolicy: { retryOn: '5xx', retriableRequestHeaders: [{ name: 'x-retry', presentMatch: true }] } }),
    'only a `:method` stringMatch',
  ],
  ['a generated cookie', {}, route({}, { hashPolicy: [{ cookie: { name: 'sid', ttl: { seconds: 60 } } }] }), 'hashPolicy[0].cookie.ttl: generated cookies'],
  ['two hash policies', {}, route({}, { hashPolicy: [{ header: { headerName: 'a' } }, { header: { headerName: 'b' } }] }), 'only one hash policy per route'],
  [
    'a per-route config of another filter',
    { typedPerFilterConfig: { 'envoy.filters.http.cors': { '@type': FAULT } } },
    route(),
    'per-route config of filter "envoy.filters.http.cors" is not supported',
  ],
  [
    'a fault without a status',
    {},
    route({ typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, abort: { percentage: { numerator: 1 } } } } }),
    'typedPerFilterConfig.envoy.filters.http.fault.abort',
  ],
  [
    'a rate limit enforced for half the requests',
    {},
    route({
      typedPerFilterConfig: {
        'envoy.filters.http.local_ratelimit': {
          '@type': RL,
          statPrefix: 'x',
          tokenBucket: { maxTokens: 1, fillInterval: { seconds: 1 } },
          filterEnabled: ALWAYS,
          filterEnforced: { defaultValue: { numerator: 50 }, runtimeKey: 'k' },
        },
      },
    }),
    '0% or 100% of requests only',
  ],
];
for (const [what, vhost, r, expected] of refused) {
  test(`a route table with ${what} is refused`, () => {
    const d = table(vhost, [r]);
    assert.ok(!d.ok && formatProblems(d.error).includes(expected), !d.ok ? formatProblems(d.error) : 'decoded');
  });
}

test("a cluster's circuit breakers and outlier detection decode; HIGH priority thresholds are ignored", () => {
  const c = decodeCluster(
    wireCluster({
      ...edsCluster('c'),
      lbPolicy: 'RING_HASH',
      ringHashLbConfig: { minimumRingSize: { value: 1024 } },
      circuitBreakers: {
        thresholds: [
          { priority: 'HIGH', maxRequests: { value: 1 } },
          { maxRequests: { value: 200 }, retryBudget: { budgetPercent: { value: 20 }, minRetryConcurrency: { value: 3 } } },
        ],
      },
      outlierDetection: {
        consecutive_5xx: { value: 5 },
        enforcingConsecutive_5xx: { value: 100 },
        interval: { seconds: 5 },
        baseEjectionTime: { seconds: 30 },
        maxEjectionPercent: { value: 50 },
        failurePercentageThreshold: { value: 60 },
        enforcingFailurePercentage: { value: 100 },
        failurePercentageRequestVolume: { value: 20 },
      },
    }),
  );
  assert.ok(c.ok, !c.ok ? formatProblems(c.error) : '');
  assert.equal(c.value.config.lbPolicy, 'ring_hash');
  assert.deepEqual(c.value.config.limits, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 200, maxRetries: 3, retryBudget: { percent: 20, minConcurrency: 3 } });
  assert.deepEqual(c.value.config.outlier, {
    consecutiveErrors: 5,
    intervalMs: 5000,
    baseEjectionMs: 30_000,
    maxEjectionPercent: 50,
    alwaysEjectOne: false,
    failurePercent: { threshold: 60, minimumRequests: 20 },
  });
});

test('always_eject_one_host (a BoolValue, as the control plane sends it) lets outlier detection eject one endpoint whatever maxEjectionPercent allows', () => {
  const od = { consecutive_5xx: { value: 3 }, maxEjectionPercent: { value: 10 } };
  const on = decodeCluster(wireCluster({ ...edsCluster('c'), outlierDetection: { ...od, alwaysEjectOneHost: { value: true } } }));
  assert.ok(on.ok, !on.ok ? formatProblems(on.error) : '');
  assert.equal(on.value.config.outlier?.alwaysEjectOne, true);
  const off = decodeCluster(wireCluster({ ...edsCluster('c'), outlierDetection: { ...od, alwaysEjectOneHost: { value: false } } }));
  assert.ok(off.ok);
  assert.equal(off.value.config.outlier?.alwaysEjectOne, false);
});

test('a cluster with success-rate ejection or partial enforcement is refused', () => {
  const c = decodeCluster(wireCluster({ ...edsCluster('c'), outlierDetection: { enforcingSuccessRate: { value: 100 }, enforcingConsecutive_5xx: { value: 50 } } }));
  assert.ok(!c.ok);
  const text = formatProblems(c.error);
  assert.ok(
    text.includes('outlierDetection.enforcingSuccessRate: success-rate ejection is not supported') &&
      text.includes('enforcingConsecutive_5xx: Trellis proxy enforces 0% or 100%, got 50'),
    text,
  );
});
