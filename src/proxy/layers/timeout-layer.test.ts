// The timeout layer: a route with timeoutMs gives the request that long for a complete response;
// then the upstream exchange is stopped and the client gets 504 REQUEST_TIMEOUT (a reset when
// the response had started), counted as a request timeout. The timer goes when the request is over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterState, compiledRoute, completeResponse, fakeRequest, fakeUpstream, NextRecorder } from '../testing/http-fakes.js';
import { timeoutLayer } from './timeout-layer.js';

function start(timeoutMs: number, o: { direction?: 'inbound' | 'outbound' } = {}) {
  const cluster = clusterState('app');
  const next = new NextRecorder();
  const r = fakeRequest({ route: compiledRoute({ timeoutMs }), cluster, listener: { direction: o.direction ?? 'outbound' } });
  timeoutLayer.request(r.ctx, next.handler);
  return { ...r, cluster, next, upstream: fakeUpstream(r.ctx) };
}

test('a route without a timeout sets no timer', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { ctx, next, down } = start(0);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(ctx.routeTimer, undefined);
  t.mock.timers.tick(3_600_000);
  assert.equal(down.responses.length, 0);
});

test('no complete response within timeoutMs: upstream stopped, 504 REQUEST_TIMEOUT, counted', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { ctx, next, down, upstream, cluster } = start(500);
  assert.deepEqual(next.calls, [ctx], 'passed on at once');
  t.mock.timers.tick(499);
  assert.equal(down.responses.length, 0);
  assert.equal(upstream.cancels, 0);
  t.mock.timers.tick(1);
  assert.equal(upstream.cancels, 1);
  assert.equal(down.response?.status, 504);
  assert.equal(down.response?.headers['x-trellis-error'], 'REQUEST_TIMEOUT');
  assert.equal(down.response?.body, 'route all/r timed out: no complete response within 500 ms\n');
  assert.equal(ctx.error?.code, 'REQUEST_TIMEOUT');
  assert.deepEqual(cluster.runtime.events.timeouts.outbound, { request: 1, per_try: 0 });
  assert.equal(ctx.routeTimer, undefined);
});

test('inbound timeouts are counted as inbound', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { cluster } = start(10, { direction: 'inbound' });
  t.mock.timers.tick(10);
  assert.deepEqual(cluster.runtime.events.timeouts.inbound, { request: 1, per_try: 0 });
  assert.equal(cluster.runtime.events.timeouts.outbound.request, 0);
});

test('a response already under way is broken off (reset), not answered', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { down, upstream } = start(100);
  down.headersSent = true;
  t.mock.timers.tick(100);
  assert.equal(down.responses.length, 0);
  assert.equal(down.aborts, 1);
  assert.equal(upstream.cancels, 1);
});

test('a request over before timeoutMs clears its timer: nothing fires later', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { ctx, down, upstream, cluster } = start(100);
  t.mock.timers.tick(50);
  completeResponse(ctx, 200);
  assert.equal(ctx.routeTimer, undefined);
  t.mock.timers.tick(1000);
  assert.equal(down.aborts, 0);
  assert.equal(down.responses.length, 0);
  assert.equal(upstream.cancels, 0);
  assert.equal(ctx.error, undefined);
  assert.equal(cluster.runtime.events.timeouts.outbound.request, 0);
});

test('a request the proxy already answered, still being written when the timer fires, is not counted as timed out', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { ctx, down, cluster } = start(100);
  ctx.fail({ code: 'UPSTREAM_RESET', status: 502, message: 'reset' });
  t.mock.timers.tick(100);
  assert.deepEqual(
    down.responses.map((r) => r.status),
    [502],
    'the first answer stands',
  );
  assert.equal(down.aborts, 0);
  assert.equal(ctx.error?.code, 'UPSTREAM_RESET');
  assert.equal(cluster.runtime.events.timeouts.outbound.request, 0);
});
