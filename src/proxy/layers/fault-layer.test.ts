// The fault layer: requests matching the route's fault headers are delayed for the configured
// share, then aborted with the configured HTTP or gRPC status for the configured share; others
// pass on untouched. A request that ends during the delay is not passed on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaultConfig } from '../config/resilience-config.js';
import { compiledRoute, fakeRequest, NextRecorder, type FakeRequestOptions } from '../testing/http-fakes.js';
import { faultLayer } from './fault-layer.js';

const ALWAYS = 1_000_000;

function run(fault: FaultConfig | undefined, o: FakeRequestOptions = {}) {
  const next = new NextRecorder();
  const r = fakeRequest({ ...o, route: compiledRoute(fault === undefined ? {} : { fault }) });
  faultLayer.request(r.ctx, next.handler);
  return { ...r, next };
}

test('a route without faults passes on at once', () => {
  const { ctx, next, down } = run(undefined);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(down.responses.length, 0);
});

test('an abort answers with the configured HTTP status (FAULT_INJECTED), not passed on', () => {
  const { next, down, ctx } = run({ headers: [], abort: { httpStatus: 418, grpcStatus: undefined, perMillion: ALWAYS } });
  assert.equal(next.calls.length, 0);
  assert.equal(down.response?.status, 418);
  assert.equal(down.response?.headers['x-trellis-error'], 'FAULT_INJECTED');
  assert.equal(ctx.error?.message, 'fault injected by route all/r: abort with HTTP 418');
});

test('a gRPC abort answers a gRPC call with the configured grpc-status', () => {
  const { down, ctx } = run({ headers: [], abort: { httpStatus: 503, grpcStatus: 14, perMillion: ALWAYS } }, { protocol: 'h2', headers: { 'content-type': 'application/grpc' } });
  assert.equal(down.response?.status, 200);
  assert.equal(down.response?.headers['grpc-status'], '14');
  assert.equal(ctx.grpcStatus, 14);
});

test('only requests whose headers all match get faults', () => {
  const fault: FaultConfig = {
    headers: [
      { name: 'x-chaos', value: 'on' },
      { name: 'x-user', value: 'qa' },
    ],
    abort: { httpStatus: 500, grpcStatus: undefined, perMillion: ALWAYS },
  };
  assert.equal(run(fault, { headers: { 'x-chaos': 'on' } }).next.calls.length, 1, 'one header missing');
  assert.equal(run(fault, { headers: { 'x-chaos': 'off', 'x-user': 'qa' } }).next.calls.length, 1, 'a value differs');
  assert.equal(run(fault, { headers: { 'x-chaos': 'on', 'x-user': 'qa' } }).down.response?.status, 500);
});

test('the share is per million requests, drawn per request', (t) => {
  let draw = 0;
  t.mock.method(Math, 'random', () => draw);
  const fault: FaultConfig = { headers: [], abort: { httpStatus: 503, grpcStatus: undefined, perMillion: 250_000 } };
  draw = 0.2499;
  assert.equal(run(fault).down.response?.status, 503);
  draw = 0.25;
  assert.equal(run(fault).next.calls.length, 1);
  assert.equal(run({ headers: [], abort: { httpStatus: 503, grpcStatus: undefined, perMillion: 0 } }).next.calls.length, 1, 'zero never aborts');
});

test('a delay holds the request for its ms, then passes it on', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { ctx, next } = run({ headers: [], delay: { ms: 200, perMillion: ALWAYS } });
  assert.equal(next.calls.length, 0);
  assert.notEqual(ctx.faultDelay, undefined);
  t.mock.timers.tick(199);
  assert.equal(next.calls.length, 0);
  t.mock.timers.tick(1);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(ctx.faultDelay, undefined, 'the delay timer is gone once it fired');
});

test('a delay, then an abort', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { next, down } = run({ headers: [], delay: { ms: 50, perMillion: ALWAYS }, abort: { httpStatus: 429, grpcStatus: undefined, perMillion: ALWAYS } });
  assert.equal(down.responses.length, 0, 'no answer during the delay');
  t.mock.timers.tick(50);
  assert.equal(next.calls.length, 0);
  assert.equal(down.response?.status, 429);
});

test('a request that ends during the delay is never passed on', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { ctx, next, down } = run({ headers: [], delay: { ms: 100, perMillion: ALWAYS }, abort: { httpStatus: 500, grpcStatus: undefined, perMillion: ALWAYS } });
  ctx.downstreamClosed();
  assert.equal(ctx.faultDelay, undefined, 'the delay timer is cleared');
  t.mock.timers.tick(100);
  assert.equal(next.calls.length, 0);
  assert.equal(down.responses.length, 0);
});
