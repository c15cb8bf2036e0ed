// The trace layer: continues the caller's trace (W3C or B3) with a new span id for this hop, or
// starts one for the listener's sampled share; passes the context upstream; records the span
// (CLIENT outbound, SERVER inbound) when the request is over, only when sampled and a collector is set.
import type { RequestContext } from '../http/request-context.js';
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ListenerTelemetry } from '../config/runtime-config.js';
import { upstreamReset } from '../errors.js';
import { clusterState, compiledRoute, completeResponse, fakeEndpoints, fakeRequest, NextRecorder, testTelemetry, type FakeRequestOptions } from '../testing/http-fakes.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, STATUS_UNSET, type FinishedSpan } from '../tracing/span.js';
import { spanName, splitHostPort, traceLayer } from './trace-layer.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';
const COLLECTOR = 'http://127.0.0.1:4318';

/** A trace layer whose exported spans are kept: [collector, span]. */
function tracer(t: TestContext) {
  const telemetry = testTelemetry();
  t.after(() => telemetry.close());
  const spans: [string, FinishedSpan][] = [];
  t.mock.method(telemetry.exporter, 'record', (collector: string, span: FinishedSpan) => void spans.push([collector, span]));
  const layer = traceLayer(telemetry);
  const run = (tracing: ListenerTelemetry | undefined, o: FakeRequestOptions = {}) => {
    const next = new NextRecorder();
    const r = fakeRequest({ ...o, listener: { ...o.listener, ...(tracing === undefined ? {} : { telemetry: tracing }) } });
    layer.request(r.ctx, next.handler);
    assert.deepEqual(next.calls, [r.ctx], 'always passed on');
    return r;
  };
  return { spans, run };
}

test('a listener without tracing config starts nothing and adds no header', (t) => {
  const { spans, run } = tracer(t);
  const { ctx } = run(undefined, { headers: { traceparent: `00-${TID}-${SID}-01` } });
  assert.equal(ctx.trace, undefined);
  assert.equal(ctx.upstreamHeaders, undefined);
  completeResponse(ctx, 200);
  assert.equal(spans.length, 0);
});

test("a sampled caller's trace is continued with a new span, passed upstream and recorded as a CLIENT span", (t) => {
  const { spans, run } = tracer(t);
  const cluster = clusterState('payments', fakeEndpoints(1));
  const { ctx } = run(
    { tracingPercent: 0, collector: COLLECTOR },
    {
      method: 'POST',
      path: '/pay?id=1',
      authority: 'payments.test',
      headers: { traceparent: `00-${TID}-${SID}-01`, tracestate: 'vendor=1' },
      cluster,
      route: compiledRoute({}, [{ item: cluster, weight: 1 }]),
    },
  );
  const span = ctx.trace!;
  assert.equal(span.traceId, TID);
  assert.equal(span.parentSpanId, SID);
  assert.match(span.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(span.spanId, SID);
  assert.equal(span.sampled, true);
  assert.equal(span.traceState, 'vendor=1');
  assert.deepEqual(ctx.upstreamHeaders, ['traceparent', `00-${TID}-${span.spanId}-01`]);
  assert.equal(spans.length, 0, 'recorded only when the request is over');
  (ctx as RequestContext).endpoint = cluster.endpoints[0]; // as the balance layer would
  completeResponse(ctx, 201);
  assert.equal(spans.length, 1);
  const [collector, s] = spans[0]!;
  assert.equal(collector, COLLECTOR);
  assert.deepEqual(
    [s.traceId, s.spanId, s.parentSpanId, s.traceState, s.name, s.kind, s.statusCode],
    [TID, span.spanId, SID, 'vendor=1', 'POST all/r', SPAN_KIND_CLIENT, STATUS_UNSET],
  );
  assert.deepEqual(s.attributes, {
    'http.request.method': 'POST',
    'url.path': '/pay',
    'url.scheme': 'http',
    'server.address': 'payments.test',
    'http.response.status_code': 201,
    'network.protocol.version': '1.1',
    'trellis.direction': 'outbound',
    'trellis.source.service': 'unknown',
    'trellis.source.workload': 'unknown',
    'trellis.source.authenticated': false,
    'trellis.destination.service': 'payments.default',
    'http.route': 'all/r',
    'trellis.route': 'all/r',
    'network.peer.address': '10.1.0.1',
    'network.peer.port': 8080,
  });
  assert.ok(s.endMs >= s.startMs);
});

test("no caller trace: the listener's percentage decides, drawn per request", (t) => {
  const { spans, run } = tracer(t);
  let draw = 0;
  t.mock.method(Math, 'random', () => draw);
  draw = 0.3;
  const unsampled = run({ tracingPercent: 30, collector: COLLECTOR });
  assert.equal(unsampled.ctx.trace?.sampled, false);
  assert.match(unsampled.ctx.trace.traceId, /^[0-9a-f]{32}$/);
  assert.deepEqual(
    unsampled.ctx.upstreamHeaders,
    ['traceparent', `00-${unsampled.ctx.trace.traceId}-${unsampled.ctx.trace.spanId}-00`],
    'the "not sampled" decision goes upstream',
  );
  draw = 0.2999;
  const sampled = run({ tracingPercent: 30, collector: COLLECTOR });
  assert.match(sampled.ctx.trace?.traceId ?? '', /^[0-9a-f]{32}$/);
  assert.equal(sampled.ctx.trace?.parentSpanId, undefined, 'a root span');
  completeResponse(unsampled.ctx, 200);
  completeResponse(sampled.ctx, 200);
  assert.equal(spans.length, 1);
});

test('a caller\'s "not sampled" is passed on but nothing is recorded, whatever the percentage', (t) => {
  const { spans, run } = tracer(t);
  const { ctx } = run({ tracingPercent: 100, collector: COLLECTOR }, { headers: { traceparent: `00-${TID}-${SID}-00` } });
  assert.equal(ctx.trace?.sampled, false);
  assert.deepEqual(ctx.upstreamHeaders, ['traceparent', `00-${TID}-${ctx.trace.spanId}-00`]);
  completeResponse(ctx, 200);
  assert.equal(spans.length, 0);
});

test('the next proxy follows an unsampled decision instead of drawing again (issue 14)', (t) => {
  const { spans, run } = tracer(t);
  let draws = 0;
  t.mock.method(Math, 'random', () => (draws++, 0.99));
  const first = run({ tracingPercent: 50, collector: COLLECTOR });
  t.mock.method(Math, 'random', () => (draws++, 0));
  const headers = { traceparent: first.ctx.upstreamHeaders![1]! };
  const second = run({ tracingPercent: 50, collector: COLLECTOR }, { headers, listener: { direction: 'inbound' } });
  assert.equal(draws, 1, 'only the first proxy draws');
  assert.deepEqual([second.ctx.trace?.traceId, second.ctx.trace?.parentSpanId, second.ctx.trace?.sampled], [first.ctx.trace!.traceId, first.ctx.trace!.spanId, false]);
  completeResponse(first.ctx, 200);
  completeResponse(second.ctx, 200);
  assert.equal(spans.length, 0);
});

test("a B3 caller's bare decision (b3: 0, x-b3-sampled without ids) is followed and answered in its format", (t) => {
  const { spans, run } = tracer(t);
  t.mock.method(Math, 'random', () => 0);
  const single = run({ tracingPercent: 100, collector: COLLECTOR }, { headers: { b3: '0' } });
  const s = single.ctx.trace!;
  assert.equal(s.sampled, false);
  assert.deepEqual(single.ctx.upstreamHeaders, ['traceparent', `00-${s.traceId}-${s.spanId}-00`, 'b3', `${s.traceId}-${s.spanId}-0`]);
  const multi = run({ tracingPercent: 0, collector: COLLECTOR }, { headers: { 'x-b3-sampled': '1' } });
  const m = multi.ctx.trace!;
  assert.equal(m.sampled, true);
  assert.equal(m.parentSpanId, undefined, 'a root span');
  assert.deepEqual(multi.ctx.upstreamHeaders, ['traceparent', `00-${m.traceId}-${m.spanId}-01`, 'x-b3-traceid', m.traceId, 'x-b3-spanid', m.spanId, 'x-b3-sampled', '1']);
  completeResponse(single.ctx, 200);
  completeResponse(multi.ctx, 200);
  assert.deepEqual(
    spans.map(([, x]) => x.traceId),
    [m.traceId],
  );
});

test('B3 multi headers are answered in B3 beside traceparent', (t) => {
  const { run } = tracer(t);
  const { ctx } = run({ tracingPercent: 0, collector: COLLECTOR }, { headers: { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-sampled': '1' } });
  const id = ctx.trace!.spanId;
  assert.deepEqual(ctx.upstreamHeaders, ['traceparent', `00-${TID}-${id}-01`, 'x-b3-traceid', TID, 'x-b3-spanid', id, 'x-b3-sampled', '1', 'x-b3-parentspanid', SID]);
});

test("span status: the proxy's own failures and 5xx are errors; 4xx only outbound; inbound spans are SERVER spans", (t) => {
  const { spans, run } = tracer(t);
  const tracing = { tracingPercent: 100, collector: COLLECTOR };
  const failed = run(tracing);
  failed.ctx.fail(upstreamReset('10.1.0.1:8080'));
  failed.ctx.downstreamClosed();
  const outbound404 = run(tracing);
  completeResponse(outbound404.ctx, 404);
  const inbound404 = run(tracing, { listener: { direction: 'inbound' } });
  completeResponse(inbound404.ctx, 404);
  const [a, b, c] = spans.map(([, s]) => s);
  assert.deepEqual(
    [a!.statusCode, a!.attributes['error.type'], a!.statusMessage],
    [STATUS_ERROR, 'UPSTREAM_RESET', 'upstream reset the request before a complete response (endpoint 10.1.0.1:8080)'],
  );
  assert.deepEqual([b!.statusCode, b!.attributes['error.type'], b!.kind], [STATUS_ERROR, '404', SPAN_KIND_CLIENT]);
  assert.deepEqual([c!.statusCode, c!.attributes['error.type'], c!.kind, c!.attributes['trellis.destination.service']], [STATUS_UNSET, undefined, SPAN_KIND_SERVER, 'web.default']);
});

test('without a collector a sampled trace is passed on but not recorded', (t) => {
  const { spans, run } = tracer(t);
  const { ctx } = run({ tracingPercent: 100 });
  assert.notEqual(ctx.trace, undefined);
  completeResponse(ctx, 200);
  assert.equal(spans.length, 0);
});

test('SERVER spans follow the HTTP conventions: `METHOD route`, server address and port apart, the caller without its port, unknown methods as _OTHER', (t) => {
  const { spans, run } = tracer(t);
  const cluster = clusterState('web', fakeEndpoints(1));
  const { ctx } = run(
    { tracingPercent: 100, collector: COLLECTOR },
    {
      listener: { direction: 'inbound' },
      method: 'PURGE',
      path: '/users/12345',
      authority: 'web.default:8080',
      remoteAddress: '10.2.0.7',
      cluster,
      route: compiledRoute({}, [{ item: cluster, weight: 1 }]),
    },
  );
  (ctx as RequestContext).endpoint = cluster.endpoints[0];
  completeResponse(ctx, 200);
  const [, s] = spans[0]!;
  assert.equal(s.name, 'HTTP all/r', 'the route, never the path; HTTP for an unknown method');
  assert.equal(s.kind, SPAN_KIND_SERVER);
  assert.equal(s.attributes['http.request.method'], '_OTHER');
  assert.equal(s.attributes['http.request.method_original'], 'PURGE');
  assert.equal(s.attributes['http.route'], 'all/r');
  assert.equal(s.attributes['server.address'], 'web.default');
  assert.equal(s.attributes['server.port'], 8080);
  assert.equal(s.attributes['client.address'], '10.2.0.7');
  assert.equal(s.attributes['network.peer.address'], '10.2.0.7', 'the caller, not the local app, on a SERVER span');
  assert.equal(s.attributes['network.peer.port'], undefined);
});

test('span names and host:port splitting', () => {
  assert.equal(spanName('GET', 'shop/items'), 'GET shop/items');
  assert.equal(spanName('GET', undefined), 'GET');
  assert.equal(spanName('_OTHER', ''), 'HTTP');
  assert.deepEqual(splitHostPort('10.1.0.1:8080'), { host: '10.1.0.1', port: 8080 });
  assert.deepEqual(splitHostPort('[::1]:443'), { host: '::1', port: 443 });
  assert.deepEqual(splitHostPort('::ffff:10.0.0.1'), { host: '::ffff:10.0.0.1', port: undefined });
  assert.deepEqual(splitHostPort('[::1]'), { host: '::1', port: undefined });
  assert.deepEqual(splitHostPort('payments.test'), { host: 'payments.test', port: undefined });
  assert.deepEqual(splitHostPort('payments.test:x'), { host: 'payments.test', port: undefined });
});
