import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTrafficPolicy } from './traffic-policy.js';
import { assertOk, assertProblem, assertRoundTrip, DELETE, withField } from './problem-assert.js';
import { formatDuration, parseDuration } from './duration.js';

const full = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'TrafficPolicy',
  metadata: { name: 'payments' },
  spec: {
    targetRef: { kind: 'Service', name: 'payments' },
    loadBalancer: { type: 'RingHash', hashOn: { header: 'x-user' } },
    timeouts: { connect: '1s', request: '10s', perTry: '2s' },
    retry: { attempts: 3, codes: [503], grpcCodes: ['UNAVAILABLE'], backoff: { base: '25ms', max: '250ms' }, budget: { percent: 20 } },
    circuitBreaker: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 200, maxRetries: 5 },
    outlierDetection: { consecutiveErrors: 5, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50, failureRate: { threshold: 50 } },
    faultInjection: { delay: { fixedDelay: '100ms', percent: 10 }, abort: { httpStatus: 503, percent: 1.5 }, headers: [{ name: 'x-chaos', value: 'on' }] },
    rateLimit: { requests: 100, per: '1s', burst: 200 },
  },
};

test('a full policy parses with its defaults filled in', () => {
  const p = assertOk(parseTrafficPolicy(full));
  assert.deepEqual(p.metadata, { name: 'payments', namespace: 'default' });
  assert.deepEqual(p.spec.targetRef, { group: '', kind: 'Service', name: 'payments' });
  assert.deepEqual(p.spec.retry, {
    attempts: 3,
    on: ['connect-failure', 'reset', 'retriable-status-codes'],
    codes: [503],
    grpcCodes: ['UNAVAILABLE'],
    backoff: { base: '25ms', max: '250ms' },
    nonIdempotent: false,
    budget: { percent: 20, minConcurrency: 3 },
  });
  assert.deepEqual(p.spec.outlierDetection, {
    consecutiveErrors: 5,
    interval: '5s',
    baseEjectionTime: '30s',
    maxEjectionPercent: 50,
    failureRate: { threshold: 50, minimumRequests: 100 },
  });
  assertRoundTrip(parseTrafficPolicy, p);
});

test('a policy with only a target is valid and means nothing changes', () => {
  const p = assertOk(parseTrafficPolicy({ ...full, spec: { targetRef: { name: 'payments' } } }));
  assert.deepEqual(p.spec, { targetRef: { group: '', kind: 'Service', name: 'payments' } });
});

const invalid: [string, string, unknown, string, string?][] = [
  ['a target that is not a Service', 'spec.targetRef.kind', 'Deployment', 'kind must be "Service", got "Deployment"'],
  ['a target in another namespace', 'spec.targetRef.namespace', 'other', 'applies to a Service in its own namespace'],
  ['no target', 'spec.targetRef', DELETE, 'required'],
  ['an unknown balancer', 'spec.loadBalancer.type', 'Maglev', 'must be one of'],
  ['a ring hash without a key', 'spec.loadBalancer.hashOn', DELETE, 'required for RingHash'],
  [
    'a hash key for round robin',
    'spec.loadBalancer.type',
    'RoundRobin',
    'only RingHash hashes; remove it or set type: RingHash (type is "RoundRobin")',
    'spec.loadBalancer.hashOn',
  ],
  ['two hash keys', 'spec.loadBalancer.hashOn', { header: 'x-user', cookie: 'sid' }, 'exactly one of header, cookie and sourceIP is required, got 2'],
  ['a duration without unit', 'spec.timeouts.request', '10', 'must be a duration such as "500ms"'],
  ['a connect timeout of 2 minutes', 'spec.timeouts.connect', '2m', 'must be at most 1m'],
  ['11 retries', 'spec.retry.attempts', 11, 'must be <= 10, got 11'],
  ['an unknown retry condition', 'spec.retry.on', ['5xx', 'sometimes'], 'must be one of', 'spec.retry.on[1]'],
  ['a retry code below 400', 'spec.retry.codes', [302], 'must be >= 400, got 302', 'spec.retry.codes[0]'],
  ['an unknown gRPC code', 'spec.retry.grpcCodes', ['NOT_FOUND'], 'must be one of', 'spec.retry.grpcCodes[0]'],
  ['a budget over 100%', 'spec.retry.budget.percent', 150, 'must be <= 100, got 150'],
  ['a negative limit', 'spec.circuitBreaker.maxRequests', -1, 'must be >= 0, got -1'],
  ['outlier detection that ejects nothing', 'spec.outlierDetection', { interval: '1s' }, 'set consecutiveErrors, failureRate or both'],
  ['an ejection share over 100%', 'spec.outlierDetection.maxEjectionPercent', 101, 'must be <= 100'],
  ['an abort with two statuses', 'spec.faultInjection.abort', { httpStatus: 503, grpcStatus: 14, percent: 1 }, 'exactly one of httpStatus and grpcStatus is required'],
  ['a fault percentage over 100', 'spec.faultInjection.delay.percent', 101, 'must be <= 100'],
  ['a fault with nothing to do', 'spec.faultInjection', { headers: [] }, 'set delay, abort or both'],
  ['a rate limit of 0 requests', 'spec.rateLimit.requests', 0, 'must be >= 1, got 0'],
  ['a misspelt field', 'spec.retry.attempt', 1, 'did you mean "attempts"?'],
];
for (const [name, path, value, fragment, at] of invalid) {
  test(`refuses ${name} at ${at ?? path}`, () => assertProblem(parseTrafficPolicy(withField(full, path, value)), at ?? path, fragment));
}

test('Gateway API durations parse to milliseconds and format back', () => {
  assert.equal(parseDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('0s'), 0);
  assert.match(String(parseDuration('1.5s')), /must be a duration/);
  assert.match(String(parseDuration('')), /must be a duration/);
  assert.equal(formatDuration(90_500), '1m30s500ms');
  assert.equal(formatDuration(0), '0s');
});
