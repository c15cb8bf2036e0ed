// The tap layer: while someone watches, every finished request's metadata goes to the tap hub
// (which filters per watcher); with nobody watching nothing is built.
import type { RequestContext } from '../http/request-context.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TapEvent } from '../telemetry/tap-hub.js';
import { clusterState, compiledRoute, completeResponse, fakeEndpoints, fakeRequest, NextRecorder, testTelemetry, type FakeRequestOptions } from '../testing/http-fakes.js';
import { tapLayer } from './tap-layer.js';

function tap() {
  const telemetry = testTelemetry();
  const layer = tapLayer(telemetry);
  const run = (o: FakeRequestOptions = {}) => {
    const next = new NextRecorder();
    const r = fakeRequest(o);
    layer.request(r.ctx, next.handler);
    assert.deepEqual(next.calls, [r.ctx], 'always passed on');
    return r;
  };
  return { hub: telemetry.tap, run };
}

test('with nobody watching nothing is published', (t) => {
  const { hub, run } = tap();
  const publish = t.mock.method(hub, 'publish');
  completeResponse(run().ctx, 200);
  assert.equal(publish.mock.callCount(), 0);
});

test('a watched request is published when it is over, with its metadata', () => {
  const { hub, run } = tap();
  const got: TapEvent[] = [];
  const stop = hub.subscribe({}, (e) => (got.push(e), true));
  const cluster = clusterState('payments', fakeEndpoints(1));
  const { ctx } = run({ method: 'DELETE', path: '/items/1', authority: 'payments.test', cluster, route: compiledRoute({}, [{ item: cluster, weight: 1 }]) });
  (ctx as RequestContext).endpoint = cluster.endpoints[0]; // as the balance layer would
  ctx.grpcStatus = 0;
  ctx.sourceService = 'web.default';
  ctx.sourceWorkload = 'web-v1';
  ctx.requestBytes = 1;
  ctx.responseBytes = 2;
  ctx.trace = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), parentSpanId: undefined, sampled: true, traceState: undefined };
  assert.equal(got.length, 0);
  completeResponse(ctx, 204);
  stop();
  assert.equal(got.length, 1);
  const { time, durationMs, ...rest } = got[0]!;
  assert.match(time, /^\d{4}-\d\d-\d\dT/);
  assert.ok(durationMs >= 0);
  assert.deepEqual(rest, {
    direction: 'outbound',
    method: 'DELETE',
    authority: 'payments.test',
    path: '/items/1',
    status: 204,
    requestBytes: 1,
    responseBytes: 2,
    sourceService: 'web.default',
    sourceWorkload: 'web-v1',
    service: 'payments.default',
    route: 'all/r',
    grpcStatus: 0,
    endpoint: '10.1.0.1:8080',
    traceId: 'c'.repeat(32),
  });
});

test("the proxy's own answer carries its error code; inbound the service is this proxy's", () => {
  const { hub, run } = tap();
  const got: TapEvent[] = [];
  const stop = hub.subscribe({}, (e) => (got.push(e), true));
  const { ctx } = run({ listener: { direction: 'inbound' } });
  ctx.fail({ code: 'FORBIDDEN', status: 403, message: 'forbidden' });
  ctx.downstreamClosed();
  stop();
  assert.deepEqual([got[0]?.status, got[0]?.proxyError, got[0]?.service, got[0]?.route], [403, 'FORBIDDEN', 'web.default', '']);
});

test('a watcher that left before the request ended gets nothing, and nothing is published', (t) => {
  const { hub, run } = tap();
  const got: TapEvent[] = [];
  const stop = hub.subscribe({}, (e) => (got.push(e), true));
  const { ctx } = run();
  stop();
  const publish = t.mock.method(hub, 'publish');
  completeResponse(ctx, 200);
  assert.equal(got.length, 0);
  assert.equal(publish.mock.callCount(), 0);
});
