// The retry layer: a failed attempt (connect failure, reset, per-try timeout, or a response head
// the policy lists) is taken over and tried again after an exponential backoff with full
// jitter, while retries are left, the method and body allow it and the cluster's retry budget
// has room; never once the response went downstream. Retries and per-try timeouts are counted.
import type { RequestContext } from '../http/request-context.js';
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DEFAULT_LIMITS, type RetryConfig } from '../config/resilience-config.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import { endpointGone, upstreamConnectFailed, upstreamReset } from '../errors.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import { retryPolicy, safeRegex } from '../testing/config-builder.js';
import { clusterState, compiledRoute, completeResponse, fakeEndpoints, fakeRequest, fakeUpstream, NextRecorder, type FakeRequestOptions } from '../testing/http-fakes.js';
import { balanceLayer } from './balance-layer.js';
import { retryLayer } from './retry-layer.js';

const refused = () => upstreamConnectFailed('10.1.0.1:8080', { code: 'ECONNREFUSED' });
const reset = () => upstreamReset('10.1.0.1:8080');

/** Fake timers, and the jitter draw `draw` (backoff = floor(draw × ceiling)). */
function fakeTime(t: TestContext, draw = 0): void {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  t.mock.method(Math, 'random', () => draw);
}

/** A request under `policy` through a stack whose up hooks are the retry layer's. */
function start(policy: RetryConfig | undefined, o: FakeRequestOptions & { cluster?: ClusterState } = {}) {
  const cluster = o.cluster ?? clusterState('app', fakeEndpoints(2));
  const next = new NextRecorder();
  const r = fakeRequest({ ...o, cluster, route: compiledRoute(policy === undefined ? {} : { retry: policy }, [{ item: cluster, weight: 1 }]), layers: [retryLayer] });
  retryLayer.request(r.ctx, next.handler);
  return { ...r, next, cluster };
}

test('a route without a retry policy passes on once and a failed attempt fails the request', () => {
  const { ctx, next, down } = start(undefined);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(ctx.retry, undefined);
  assert.equal(ctx.replay, undefined);
  ctx.attemptFailed(refused());
  assert.equal(down.response?.status, 502);
  assert.equal(down.response?.headers['x-trellis-error'], 'UPSTREAM_CONNECT_FAILED');
  assert.equal(ctx.upstreamHead(503, NO_GRPC_STATUS), false);
});

test('a connect failure is taken over and tried again after the backoff, on a new endpoint pick', (t) => {
  fakeTime(t, 0.5);
  const { ctx, next, down, cluster } = start(retryPolicy({ numRetries: 2, backoffBaseMs: 25, backoffMaxMs: 250 }));
  assert.equal(next.calls.length, 1);
  (ctx as RequestContext).endpoint = cluster.endpoints[0]; // as the balance layer would
  ctx.attemptFailed(refused());
  assert.equal(down.responses.length, 0, 'the client hears nothing of it');
  assert.equal(cluster.runtime.events.retries['connect-failure'], 1);
  assert.equal(cluster.runtime.activeRetries, 1, 'the retry holds a slot of the budget');
  t.mock.timers.tick(11);
  assert.equal(next.calls.length, 1, 'backoff floor(0.5 × 25) = 12 ms not over');
  t.mock.timers.tick(1);
  assert.equal(next.calls.length, 2);
  assert.equal(ctx.endpoint, cluster.endpoints[0], "the endpoint is the balance layer's alone to set: it picks again below");
});

test('the backoff ceiling doubles per retry up to backoffMaxMs', (t) => {
  fakeTime(t, 0.999);
  const { ctx, next } = start(retryPolicy({ numRetries: 4, backoffBaseMs: 10, backoffMaxMs: 35 }));
  // Ceilings 10, 20, 35 (40 capped), 35: with the draw just under 1, delays of 9, 19, 34 and 34 ms.
  for (const [i, delay] of [9, 19, 34, 34].entries()) {
    ctx.attemptFailed(reset());
    t.mock.timers.tick(delay - 1);
    assert.equal(next.calls.length, i + 1, `retry ${i + 1} not before ${delay} ms`);
    t.mock.timers.tick(1);
    assert.equal(next.calls.length, i + 2, `retry ${i + 1} after ${delay} ms`);
  }
});

test('when numRetries are used up the failure goes to the client', (t) => {
  fakeTime(t);
  const { ctx, next, down, cluster } = start(retryPolicy({ numRetries: 1 }));
  ctx.attemptFailed(refused());
  t.mock.timers.runAll();
  assert.equal(next.calls.length, 2);
  ctx.attemptFailed(reset());
  assert.equal(next.calls.length, 2);
  assert.equal(down.response?.status, 502);
  assert.equal(down.response?.headers['x-trellis-error'], 'UPSTREAM_RESET');
  assert.equal(cluster.runtime.events.retries['connect-failure'] + cluster.runtime.events.retries.reset, 1);
});

test('response heads the policy lists are taken over, named for the answer', (t) => {
  fakeTime(t);
  const policy = retryPolicy({ numRetries: 5, statusCodes: [409] }, { fiveXx: false, gatewayError: true, retriableStatus: true, grpcStatuses: [14] });
  const { ctx, cluster } = start(policy);
  assert.equal(ctx.upstreamHead(200, NO_GRPC_STATUS), false);
  assert.equal(ctx.upstreamHead(500, NO_GRPC_STATUS), false, '500 is not a gateway error');
  assert.equal(ctx.upstreamHead(404, NO_GRPC_STATUS), false);
  assert.equal(ctx.upstreamHead(503, NO_GRPC_STATUS), true);
  assert.equal(ctx.upstreamHead(409, NO_GRPC_STATUS), true);
  assert.equal(ctx.upstreamHead(200, 14), true, 'a listed gRPC status of a trailers-only answer');
  assert.equal(ctx.upstreamHead(200, 5), false);
  assert.deepEqual(cluster.runtime.events.retries, {
    'connect-failure': 0,
    reset: 0,
    'per-try-timeout': 0,
    '5xx': 1,
    'retriable-status-codes': 1,
    'grpc-status': 1,
    'reused-connection': 0,
  });
});

test('retry-on 5xx takes any 5xx head over, not a 4xx', (t) => {
  fakeTime(t);
  const { ctx } = start(retryPolicy({ numRetries: 5 }));
  assert.equal(ctx.upstreamHead(500, NO_GRPC_STATUS), true);
  assert.equal(ctx.upstreamHead(599, NO_GRPC_STATUS), true);
  assert.equal(ctx.upstreamHead(429, NO_GRPC_STATUS), false);
});

test('which failures are listed: connect failures by any condition, resets not by connectFailure alone', (t) => {
  fakeTime(t);
  const connectOnly = start(retryPolicy({}, { connectFailure: true, reset: false, fiveXx: false }));
  connectOnly.ctx.attemptFailed(refused());
  assert.equal(connectOnly.down.responses.length, 0, 'connect failure retried');
  const resetAfter = start(retryPolicy({}, { connectFailure: true, reset: false, fiveXx: false }));
  resetAfter.ctx.attemptFailed(reset());
  assert.equal(resetAfter.down.response?.status, 502, 'a reset is not a connect failure');
  const resetOnly = start(retryPolicy({}, { connectFailure: false, reset: true, fiveXx: false }));
  resetOnly.ctx.attemptFailed(refused());
  assert.equal(resetOnly.down.responses.length, 0, 'reset covers a connection that never came up');
  const none = start(retryPolicy({}, { connectFailure: false, reset: false, fiveXx: false, retriableStatus: true }));
  none.ctx.attemptFailed(refused());
  assert.equal(none.down.response?.status, 502);
});

test('nothing is retried once the response head went downstream', (t) => {
  fakeTime(t);
  const { ctx, down, next } = start(retryPolicy());
  down.headersSent = true;
  assert.equal(ctx.upstreamHead(503, NO_GRPC_STATUS), false);
  ctx.attemptFailed(reset());
  assert.equal(down.aborts, 1, 'the response under way is broken off');
  t.mock.timers.runAll();
  assert.equal(next.calls.length, 1);
});

test('a method the policy does not allow is retried only when its request never left (connect failure)', (t) => {
  fakeTime(t);
  const policy = retryPolicy({ methods: safeRegex('GET|HEAD') });
  const post = start(policy, { method: 'POST' });
  assert.equal(post.ctx.upstreamHead(503, NO_GRPC_STATUS), false);
  post.ctx.attemptFailed(reset());
  assert.equal(post.down.response?.status, 502);
  const postRefused = start(policy, { method: 'POST' });
  postRefused.ctx.attemptFailed(refused());
  assert.equal(postRefused.down.responses.length, 0);
  assert.equal(start(policy, { method: 'GET' }).ctx.upstreamHead(503, NO_GRPC_STATUS), true);
});

test('a request body is kept for retries; one not kept whole is not retried', (t) => {
  fakeTime(t);
  const complete = start(retryPolicy(), { method: 'POST', hasBody: true });
  assert.ok(complete.ctx.replay, 'a body replay is set up for the forwarder');
  complete.ctx.replay.record(Buffer.from('abc'));
  complete.ctx.replay.end();
  assert.equal(complete.ctx.upstreamHead(503, NO_GRPC_STATUS), true);
  const partial = start(retryPolicy(), { method: 'POST', hasBody: true });
  partial.ctx.replay!.record(Buffer.from('abc'));
  assert.equal(partial.ctx.upstreamHead(503, NO_GRPC_STATUS), false, 'the body had not all arrived');
  assert.equal(start(retryPolicy(), { hasBody: false }).ctx.replay, undefined);
});

test("the cluster's maxRetries bounds retries in flight; a slot is held until the request is over", (t) => {
  fakeTime(t);
  const cluster = clusterState('app', fakeEndpoints(2), { limits: { ...DEFAULT_LIMITS, maxRetries: 1 } });
  const a = start(retryPolicy(), { cluster });
  const b = start(retryPolicy(), { cluster });
  assert.equal(a.ctx.upstreamHead(503, NO_GRPC_STATUS), true);
  assert.equal(b.ctx.upstreamHead(503, NO_GRPC_STATUS), false, 'over the budget: the 503 goes to the client');
  t.mock.timers.runAll();
  assert.equal(a.ctx.upstreamHead(503, NO_GRPC_STATUS), true, 'a request keeps its slot for its later retries');
  assert.equal(cluster.runtime.activeRetries, 1);
  completeResponse(a.ctx, 200);
  assert.equal(cluster.runtime.activeRetries, 0, 'released when the request is over');
  assert.equal(b.ctx.upstreamHead(503, NO_GRPC_STATUS), true);
});

test('a retry budget allows percent of the requests in flight, at least minConcurrency', (t) => {
  fakeTime(t);
  const cluster = clusterState('app', fakeEndpoints(2), { limits: { ...DEFAULT_LIMITS, maxRetries: 100, retryBudget: { percent: 50, minConcurrency: 1 } } });
  cluster.runtime.activeRequests = 4; // as the circuit breaker layer counts them
  const taken = [0, 1, 2].map(() => start(retryPolicy(), { cluster }).ctx.upstreamHead(503, NO_GRPC_STATUS));
  assert.deepEqual(taken, [true, true, false], '50 % of 4 in flight: 2 retries (maxRetries no longer applies)');
  cluster.runtime.activeRequests = 0;
  cluster.runtime.activeRetries = 0;
  assert.deepEqual(
    [0, 1].map(() => start(retryPolicy(), { cluster }).ctx.upstreamHead(503, NO_GRPC_STATUS)),
    [true, false],
    'minConcurrency 1',
  );
});

test('per-try timeout: the attempt is stopped, counted, and retried', (t) => {
  fakeTime(t);
  const { ctx, next, down, cluster } = start(retryPolicy({ perTryTimeoutMs: 100, numRetries: 1 }));
  const first = fakeUpstream(ctx);
  t.mock.timers.tick(99);
  assert.equal(first.cancels, 0);
  t.mock.timers.tick(1);
  assert.equal(first.cancels, 1);
  assert.equal(cluster.runtime.events.timeouts.outbound.per_try, 1);
  assert.equal(cluster.runtime.events.retries['per-try-timeout'], 1);
  assert.equal(down.responses.length, 0);
  t.mock.timers.tick(1);
  assert.equal(next.calls.length, 2, 'a new attempt, with a new per-try timer');
  const second = fakeUpstream(ctx);
  t.mock.timers.tick(100);
  assert.equal(second.cancels, 1);
  assert.equal(down.response?.status, 504, 'no retries left: the timeout goes to the client');
  assert.equal(down.response?.headers['x-trellis-error'], 'UPSTREAM_TIMEOUT');
  assert.equal(cluster.runtime.events.timeouts.outbound.per_try, 2);
});

test('a response head in time clears the per-try timer', (t) => {
  fakeTime(t);
  const { ctx, down, cluster } = start(retryPolicy({ perTryTimeoutMs: 100 }));
  const up = fakeUpstream(ctx);
  t.mock.timers.tick(50);
  assert.equal(ctx.upstreamHead(200, NO_GRPC_STATUS), false);
  t.mock.timers.tick(1000);
  assert.equal(up.cancels, 0);
  assert.equal(down.responses.length, 0);
  assert.equal(cluster.runtime.events.timeouts.outbound.per_try, 0);
});

test('a request that ends during the backoff starts no new attempt and frees its slot', (t) => {
  fakeTime(t, 0.9);
  const { ctx, next, cluster } = start(retryPolicy({ backoffBaseMs: 100, backoffMaxMs: 100 }));
  ctx.attemptFailed(reset());
  assert.equal(cluster.runtime.activeRetries, 1);
  ctx.downstreamClosed();
  assert.equal(cluster.runtime.activeRetries, 0);
  t.mock.timers.tick(1000);
  assert.equal(next.calls.length, 1);
});

test('in a stack, each retry goes down to the balance layer again and the failure is recorded there first', (t) => {
  fakeTime(t);
  const cluster = clusterState('app', fakeEndpoints(2), { outlier: { consecutiveErrors: 1, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 50 } });
  t.after(() => cluster.runtime.stop());
  const reached: string[] = [];
  const { ctx } = fakeRequest({
    cluster,
    route: compiledRoute({ retry: retryPolicy() }, [{ item: cluster, weight: 1 }]),
    layers: [retryLayer, balanceLayer],
    terminal: (c) => void reached.push(c.endpoint!.key),
  });
  ctx.scope.stack.serve(ctx);
  ctx.attemptFailed(refused());
  assert.equal(cluster.runtime.outlier!.isEjected(cluster.endpoints.find((e) => e.key === reached[0])!), true, 'the balance layer saw the failure');
  t.mock.timers.runAll();
  assert.equal(reached.length, 2);
  assert.notEqual(reached[1], reached[0], 'the retry went to the endpoint not ejected');
});

/** What the H1 forwarder reports when a reused keep-alive connection closed before any response byte (no body). */
const unprocessed = () => ({ ...reset(), unprocessed: true as const });

test('an unprocessed attempt (the keep-alive race) goes again at once on a fresh connection, once, even without a policy, and is counted', () => {
  const { ctx, next, down, cluster } = start(undefined);
  assert.equal(ctx.freshConnection, false);
  ctx.attemptFailed(unprocessed());
  assert.equal(next.calls.length, 2, 'sent again without a backoff');
  assert.equal(ctx.freshConnection, true, 'the forwarder opens a new connection');
  assert.equal(cluster.runtime.events.retries['reused-connection'], 1);
  assert.equal(cluster.runtime.activeRetries, 0, 'outside the retry budget');
  ctx.attemptFailed(unprocessed());
  assert.equal(next.calls.length, 2, 'a fresh connection has no race to lose: once is enough');
  assert.equal(down.response?.status, 502);
});

test('under a policy, the race resend keeps the per-try timer and leaves the policy its own retries', (t) => {
  fakeTime(t);
  const { ctx, next, cluster } = start(retryPolicy({ numRetries: 1, perTryTimeoutMs: 100 }));
  ctx.attemptFailed(unprocessed());
  assert.equal(next.calls.length, 2);
  assert.equal(ctx.freshConnection, true);
  assert.equal(cluster.runtime.events.retries['reused-connection'], 1);
  assert.equal(cluster.runtime.events.retries.reset, 0);
  ctx.attemptFailed(reset());
  assert.equal(cluster.runtime.events.retries.reset, 1, 'the policy retries the reset');
  t.mock.timers.tick(5);
  assert.equal(next.calls.length, 3);
  assert.equal(ctx.freshConnection, false, 'a policy retry may use a pooled connection');
  ctx.attemptFailed(unprocessed());
  assert.equal(next.calls.length, 4, 'each attempt may lose the race once');
});

test('an unprocessed attempt is not sent again once the response started downstream', () => {
  const { ctx, next, cluster } = start(undefined);
  (ctx.downstream as { headersSent: boolean }).headersSent = true;
  ctx.attemptFailed(unprocessed());
  assert.equal(next.calls.length, 1);
  assert.equal(cluster.runtime.events.retries['reused-connection'], 0);
});

test('a retry refused by maxRetries or by the retry budget is counted by the limit it met', (t) => {
  fakeTime(t);
  const byMax = clusterState('app', fakeEndpoints(2), { limits: { ...DEFAULT_LIMITS, maxRetries: 1 } });
  assert.equal(start(retryPolicy(), { cluster: byMax }).ctx.upstreamHead(503, NO_GRPC_STATUS), true);
  assert.equal(start(retryPolicy(), { cluster: byMax }).ctx.upstreamHead(503, NO_GRPC_STATUS), false);
  assert.deepEqual(byMax.runtime.events.retriesRefused, { retry_budget: 0, max_retries: 1 });

  const byBudget = clusterState('app', fakeEndpoints(2), { limits: { ...DEFAULT_LIMITS, retryBudget: { percent: 10, minConcurrency: 1 } } });
  start(retryPolicy(), { cluster: byBudget }).ctx.attemptFailed(reset());
  assert.equal(byBudget.runtime.activeRetries, 1, 'minConcurrency 1: the first retry is allowed');
  const refusedOne = start(retryPolicy(), { cluster: byBudget });
  refusedOne.ctx.attemptFailed(reset());
  assert.equal(refusedOne.down.response?.status, 502, 'the refused retry leaves the failure to the client');
  assert.deepEqual(byBudget.runtime.events.retriesRefused, { retry_budget: 1, max_retries: 0 });
  assert.equal(byBudget.runtime.events.retries.reset, 1, 'only the retry that started counts as one');
});

test('a retry the policy has no attempts left for is not a refusal', (t) => {
  fakeTime(t);
  const { ctx, cluster } = start(retryPolicy({ numRetries: 0 }));
  assert.equal(ctx.upstreamHead(503, NO_GRPC_STATUS), false);
  assert.deepEqual(cluster.runtime.events.retriesRefused, { retry_budget: 0, max_retries: 0 });
});

test('an attempt whose endpoint went away while it waited goes at once to another endpoint, without a fresh connection, each time', () => {
  const cluster = clusterState('app', fakeEndpoints(3));
  const reached: string[] = [];
  const { ctx, down } = fakeRequest({
    cluster,
    route: compiledRoute({}, [{ item: cluster, weight: 1 }]),
    layers: [retryLayer, balanceLayer],
    terminal: (c) => void reached.push(c.endpoint!.key),
  });
  ctx.scope.stack.serve(ctx);
  ctx.attemptFailed(endpointGone(reached[0]!, 'removed'));
  ctx.attemptFailed(endpointGone(reached[1]!, 'ejected'));
  assert.equal(reached.length, 3, 'sent on twice, without a policy and without a backoff');
  assert.equal(new Set(reached).size, 3, 'each time to an endpoint not tried yet');
  assert.equal(ctx.freshConnection, false);
  assert.equal(cluster.runtime.events.retries['reused-connection'] + cluster.runtime.events.retries.reset, 0, 'not a retry of the policy');
  assert.equal(down.response, undefined);
});
