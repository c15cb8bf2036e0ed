// The hand-written OTLP JSON encoding against @opentelemetry/otlp-transformer's serializer
// (a dev dependency: the proxy does not load it, see docs/benchmarks.md): the same spans give
// the same ExportTraceServiceRequest.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { encodeSpans, msToNanos, SCOPE } from './otlp-json.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, STATUS_UNSET, type FinishedSpan } from './span.js';

const require = createRequire(import.meta.url);

const resource = { 'service.name': 'frontend', 'service.namespace': 'default', 'service.instance.id': 'sidecar~1', 'trellis.workload': 'frontend-v1' };
const spans: FinishedSpan[] = [
  {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: undefined,
    traceState: 'a=1',
    name: 'GET frontend.default',
    kind: SPAN_KIND_SERVER,
    startMs: 1_700_000_000_123.4568,
    endMs: 1_700_000_000_125.5,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'trellis.ratio': 0.5, ok: true },
    statusCode: STATUS_UNSET,
    statusMessage: undefined,
  },
  {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '1111111111111111',
    parentSpanId: '00f067aa0ba902b7',
    traceState: undefined,
    name: 'GET catalog.default',
    kind: SPAN_KIND_CLIENT,
    startMs: 1_700_000_000_124,
    endMs: 1_700_000_000_125,
    attributes: { 'error.type': 'UPSTREAM_RESET' },
    statusCode: STATUS_ERROR,
    statusMessage: 'reset',
  },
];

/** One resource object for every span: the serializer groups spans by resource identity. */
const sdkResource = { attributes: resource, droppedAttributesCount: 0 };

/** The span as @opentelemetry/sdk-trace's ReadableSpan would carry it. */
function readable(s: FinishedSpan) {
  const hr = (ms: number): [number, number] => {
    const ns = BigInt(msToNanos(ms));
    return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  };
  return {
    name: s.name,
    kind: s.kind - 1, // the API's SpanKind is the OTLP value minus one
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: 1, ...(s.traceState ? { traceState: { serialize: () => s.traceState } } : {}) }),
    parentSpanContext: s.parentSpanId ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1 } : undefined,
    startTime: hr(s.startMs),
    endTime: hr(s.endMs),
    status: s.statusMessage !== undefined ? { code: s.statusCode, message: s.statusMessage } : { code: s.statusCode },
    attributes: s.attributes,
    links: [],
    events: [],
    duration: [0, 0],
    ended: true,
    resource: sdkResource,
    instrumentationScope: { name: SCOPE.name, version: SCOPE.version },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

test('encodeSpans gives what otlp-transformer gives for the same spans (ids, times, attributes, status)', () => {
  const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as { JsonTraceSerializer: { serializeRequest(s: unknown[]): Uint8Array } };
  const reference = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans.map(readable))).toString('utf8'));
  const ours = JSON.parse(encodeSpans(resource, spans));
  const refSpans = reference.resourceSpans[0].scopeSpans[0].spans as Record<string, unknown>[];
  const ourSpans = ours.resourceSpans[0].scopeSpans[0].spans as Record<string, unknown>[];
  assert.equal(ourSpans.length, 2);
  for (let i = 0; i < 2; i++) {
    for (const field of ['traceId', 'spanId', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'status', 'traceState']) {
      assert.deepEqual(ourSpans[i]![field], refSpans[i]![field], `span ${i} ${field}`);
    }
    const sortAttrs = (a: unknown) => [...(a as { key: string }[])].sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(sortAttrs(ourSpans[i]!.attributes), sortAttrs(refSpans[i]!.attributes), `span ${i} attributes`);
  }
  assert.deepEqual(ours.resourceSpans[0].resource.attributes, reference.resourceSpans[0].resource.attributes);
  assert.deepEqual(ours.resourceSpans[0].scopeSpans[0].scope.name, reference.resourceSpans[0].scopeSpans[0].scope.name);
});

test('milliseconds become exact nanosecond strings', () => {
  // A double near 1.7e12 ms resolves about 0.24 µs, so the test uses values it holds exactly.
  assert.equal(msToNanos(1_700_000_000_123.5), '1700000000123500000');
  assert.equal(msToNanos(1_700_000_000_123.25), '1700000000123250000');
  assert.equal(msToNanos(1), '1000000');
});
