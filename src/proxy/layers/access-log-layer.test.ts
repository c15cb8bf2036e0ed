// The access log layer: the listener's sampled share of requests is written as one entry when
// the request is over (what went downstream, the proxy's own error code, upstream, source,
// trace); listeners without access log config write nothing.
import type { RequestContext } from '../http/request-context.js';
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { AccessLogEntry } from '../telemetry/access-log.js';
import { clusterState, compiledRoute, completeResponse, fakeEndpoints, fakeRequest, NextRecorder, testTelemetry, type FakeRequestOptions } from '../testing/http-fakes.js';
import { accessLogLayer } from './access-log-layer.js';

function logger(t: TestContext) {
  const telemetry = testTelemetry();
  const lines: AccessLogEntry[] = [];
  t.mock.method(telemetry.accessLog, 'write', (e: AccessLogEntry) => void lines.push(e));
  const layer = accessLogLayer(telemetry);
  const run = (percent: number | undefined, o: FakeRequestOptions = {}) => {
    const next = new NextRecorder();
    const r = fakeRequest({ ...o, listener: { ...o.listener, ...(percent === undefined ? {} : { telemetry: { accessLogPercent: percent } }) } });
    layer.request(r.ctx, next.handler);
    assert.deepEqual(next.calls, [r.ctx], 'always passed on');
    return r;
  };
  return { lines, run };
}

test('no access log config, or 0 %, writes nothing', (t) => {
  const { lines, run } = logger(t);
  completeResponse(run(undefined).ctx, 200);
  completeResponse(run(0).ctx, 200);
  assert.deepEqual(lines, []);
});

test('a logged request is written once, when it is over, with what went downstream', (t) => {
  const { lines, run } = logger(t);
  const cluster = clusterState('payments', fakeEndpoints(1));
  const { ctx } = run(100, {
    method: 'POST',
    path: '/pay?x=1',
    authority: 'payments.test',
    protocol: 'h2',
    headers: { 'user-agent': 'curl/8', 'x-request-id': 'r-1' },
    cluster,
    route: compiledRoute({}, [{ item: cluster, weight: 1 }]),
  });
  (ctx as RequestContext).endpoint = cluster.endpoints[0]; // as the balance layer would
  ctx.sourceService = 'web.default';
  ctx.sourceWorkload = 'web-v1';
  ctx.sourceAuthenticated = true;
  ctx.requestBytes = 4;
  ctx.responseBytes = 99;
  ctx.trace = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentSpanId: undefined, sampled: true, traceState: undefined };
  assert.equal(lines.length, 0);
  completeResponse(ctx, 200);
  ctx.downstreamClosed();
  assert.equal(lines.length, 1);
  const { start_time, duration_ms, ...rest } = lines[0]!;
  assert.match(start_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(duration_ms >= 0);
  assert.deepEqual(rest, {
    direction: 'outbound',
    method: 'POST',
    authority: 'payments.test',
    path: '/pay?x=1',
    protocol: 'HTTP/2',
    response_code: 200,
    response_flags: '-',
    bytes_received: 4,
    bytes_sent: 99,
    route_name: 'all/r',
    source_service: 'web.default',
    source_workload: 'web-v1',
    source_authenticated: true,
    destination_service: 'payments.default',
    upstream_host: '10.1.0.1:8080',
    upstream_cluster: 'payments',
    trace_id: 'a'.repeat(32),
    user_agent: 'curl/8',
    request_id: 'r-1',
  });
});

test("the proxy's own answer is flagged with its error code; a client gone before any answer with DOWNSTREAM_CLOSED", (t) => {
  const { lines, run } = logger(t);
  const refused = run(100, { listener: { direction: 'inbound' } });
  refused.ctx.fail({ code: 'FORBIDDEN', status: 403, message: 'forbidden' });
  refused.ctx.downstreamClosed();
  const gone = run(100);
  gone.ctx.downstreamClosed();
  assert.deepEqual(
    lines.map((l) => [l.response_code, l.response_flags, l.destination_service, l.protocol]),
    [
      [403, 'FORBIDDEN', 'web.default', 'HTTP/1.1'],
      [0, 'DOWNSTREAM_CLOSED', 'unknown', 'HTTP/1.1'],
    ],
  );
  assert.equal(lines[0]!.upstream_cluster, undefined);
});

test('the share is drawn per request', (t) => {
  const { lines, run } = logger(t);
  let draw = 0;
  t.mock.method(Math, 'random', () => draw);
  draw = 0.25;
  completeResponse(run(25, { path: '/out' }).ctx, 200);
  draw = 0.2499;
  completeResponse(run(25, { path: '/in' }).ctx, 200);
  assert.deepEqual(
    lines.map((l) => l.path),
    ['/in'],
  );
});

test("an operator's json_format carries its keys, in order, with client address, x-forwarded-for, span id and upstream time to first byte", (t) => {
  const telemetry = testTelemetry();
  const lines: Record<string, unknown>[] = [];
  t.mock.method(telemetry.accessLog, 'write', (e: Record<string, unknown>) => void lines.push(e));
  let now = 1000;
  t.mock.method(performance, 'now', () => now);
  const format = [
    ['status', 'response_code'],
    ['client', 'client_address'],
    ['xff', 'x_forwarded_for'],
    ['span', 'span_id'],
    ['ttfb', 'upstream_ttfb_ms'],
    ['took', 'duration_ms'],
    ['grpc', 'grpc_status'],
  ] as const;
  const { ctx } = fakeRequest({
    remoteAddress: '::ffff:10.0.0.7',
    headers: { 'x-forwarded-for': '203.0.113.5, 10.0.0.1' },
    listener: { telemetry: { accessLogPercent: 100, accessLogFormat: format } },
  });
  accessLogLayer(telemetry).request(ctx, new NextRecorder().handler);
  ctx.trace = { traceId: 'a'.repeat(32), spanId: 'c'.repeat(16), parentSpanId: undefined, sampled: true, traceState: undefined };
  now = 1012.5;
  ctx.upstreamHead(503, -1);
  now = 1020;
  completeResponse(ctx, 503);
  assert.equal(lines.length, 1);
  assert.deepEqual(Object.entries(lines[0]!), [
    ['status', 503],
    ['client', '10.0.0.7'],
    ['xff', '203.0.113.5, 10.0.0.1'],
    ['span', 'c'.repeat(16)],
    ['ttfb', 12.5],
    ['took', 20],
  ]);
  // Without an upstream answer or a header, the key is left out rather than written empty.
  const { ctx: own } = fakeRequest({ remoteAddress: '10.0.0.8', listener: { telemetry: { accessLogPercent: 100, accessLogFormat: format } } });
  accessLogLayer(telemetry).request(own, new NextRecorder().handler);
  completeResponse(own, 404);
  assert.deepEqual(lines[1], { status: 404, client: '10.0.0.8', took: 0 });
});

test('a filter logs only requests at or above its status, or at or above its duration', (t) => {
  const telemetry = testTelemetry();
  const lines: AccessLogEntry[] = [];
  t.mock.method(telemetry.accessLog, 'write', (e: AccessLogEntry) => void lines.push(e));
  let now = 0;
  t.mock.method(performance, 'now', () => now);
  const layer = accessLogLayer(telemetry);
  const send = (filter: { minStatusCode?: number; minDurationMs?: number }, path: string, status: number, tookMs: number) => {
    now = 0;
    const { ctx } = fakeRequest({ path, listener: { telemetry: { accessLogPercent: 100, accessLogFilter: filter } } });
    layer.request(ctx, new NextRecorder().handler);
    now = tookMs;
    completeResponse(ctx, status);
  };
  send({ minStatusCode: 500 }, '/ok', 200, 0);
  send({ minStatusCode: 500 }, '/not-found', 404, 0);
  send({ minStatusCode: 500 }, '/unavailable', 503, 0);
  send({ minStatusCode: 400 }, '/client-error', 404, 0);
  send({ minDurationMs: 100 }, '/fast', 200, 99.9);
  send({ minDurationMs: 100 }, '/slow', 200, 100);
  send({ minStatusCode: 500, minDurationMs: 100 }, '/slow-ok', 200, 250);
  send({ minStatusCode: 500, minDurationMs: 100 }, '/fast-error', 500, 1);
  send({ minStatusCode: 500, minDurationMs: 100 }, '/fast-ok', 200, 1);
  assert.deepEqual(
    lines.map((l) => l.path),
    ['/unavailable', '/client-error', '/slow', '/slow-ok', '/fast-error'],
  );
});
