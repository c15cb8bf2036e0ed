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
