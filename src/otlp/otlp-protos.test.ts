// OTLP protobuf and OTLP JSON turned into each other with the vendored OpenTelemetry protos:
// what OpenTelemetry JS's own protobuf serializer writes reads as what its JSON serializer
// writes; JSON survives a round trip; bytes that are not a request and ids that are not hex are
// refused naming what was wrong.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { otlpJsonToProtobuf, otlpProtobufToJson } from './otlp-protos.js';

const require = createRequire(import.meta.url);
const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as { JsonTraceSerializer: { serializeRequest(this: void, s: unknown[]): Uint8Array } };
const { serializeTraceExportRequest } = require('@opentelemetry/otlp-transformer/build/src/trace/protobuf/trace-serializer.js') as {
  serializeTraceExportRequest(this: void, s: unknown[]): Uint8Array;
};

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const resource = { attributes: { 'service.name': 'frontend', 'service.namespace': 'default' } };
const scope = { name: 'test', version: '1' };
/** Two spans as OpenTelemetry JS's ReadableSpan (the fields its serializers read). */
const readable = [
  { spanId: '00f067aa0ba902b7', parent: undefined, kind: 1, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, ratio: 0.5, ok: true } },
  { spanId: '1111111111111111', parent: '00f067aa0ba902b7', kind: 2, attributes: { 'error.type': 'UPSTREAM_RESET' } },
].map((s, i) => ({
  name: `span ${i}`,
  kind: s.kind,
  spanContext: () => ({ traceId: TRACE, spanId: s.spanId, traceFlags: 1 }),
  parentSpanContext: s.parent !== undefined ? { traceId: TRACE, spanId: s.parent, traceFlags: 1, isRemote: true } : undefined,
  startTime: [1_700_000_000, 123_500_000 + i],
  endTime: [1_700_000_000, 125_250_000 + i],
  status: i === 1 ? { code: 2, message: 'reset' } : { code: 0 },
  attributes: s.attributes,
  links: [],
  events: [],
  duration: [0, 0],
  ended: true,
  resource,
  instrumentationScope: scope,
  droppedAttributesCount: 0,
  droppedEventsCount: 0,
  droppedLinksCount: 0,
}));

/** The fields the control plane reads, attributes sorted, numbers as numbers. */
function pick(request: any) {
  const rs = request.resourceSpans[0];
  const sorted = (a: any[]) =>
    [...a]
      .sort((x, y) => x.key.localeCompare(y.key))
      .map((kv) => ({ key: kv.key, value: Object.fromEntries(Object.entries(kv.value).map(([k, v]) => [k, k === 'intValue' ? Number(v) : v])) }));
  return {
    resource: sorted(rs.resource.attributes),
    scope: { name: rs.scopeSpans[0].scope.name, version: rs.scopeSpans[0].scope.version },
    spans: rs.scopeSpans[0].spans.map((s: any) => ({
      traceId: s.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId || undefined,
      name: s.name,
      kind: s.kind,
      startTimeUnixNano: String(s.startTimeUnixNano),
      endTimeUnixNano: String(s.endTimeUnixNano),
      status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
      attributes: sorted(s.attributes),
    })),
  };
}

test("OpenTelemetry's protobuf request reads as the JSON its JSON serializer writes (ids hex, times decimal strings)", () => {
  const json = otlpProtobufToJson(serializeTraceExportRequest(readable));
  assert.ok(json.ok, !json.ok ? json.error : '');
  const theirs = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(readable)).toString('utf8'));
  assert.deepEqual(pick(json.value), pick(theirs));
  assert.equal((json.value as any).resourceSpans[0].scopeSpans[0].spans[1].parentSpanId, '00f067aa0ba902b7');
  assert.equal((json.value as any).resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano, '1700000000123500000');
});

test('OTLP JSON survives a trip through protobuf', () => {
  const theirs = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(readable)).toString('utf8'));
  const bytes = otlpJsonToProtobuf(theirs);
  assert.ok(bytes.ok, !bytes.ok ? bytes.error : '');
  const back = otlpProtobufToJson(bytes.value);
  assert.ok(back.ok);
  assert.deepEqual(pick(back.value), pick(theirs));
  // The same bytes as OpenTelemetry's own protobuf serializer, once decoded.
  const direct = otlpProtobufToJson(serializeTraceExportRequest(readable));
  assert.ok(direct.ok);
  assert.deepEqual(pick(back.value), pick(direct.value));
});

test('bytes that are not an ExportTraceServiceRequest, and ids that are not hex, are refused naming what was wrong', () => {
  const bad = otlpProtobufToJson(Uint8Array.from([0x0a, 0xff, 0x01]));
  assert.ok(!bad.ok);
  assert.match(bad.error, /^not an ExportTraceServiceRequest in protobuf: /);
  const notHex = otlpJsonToProtobuf({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: 'xyz' }] }] }] });
  assert.deepEqual(notHex, { ok: false, error: 'resourceSpans[0].scopeSpans[0].spans[0].spanId: must be hex, got "xyz"' });
  assert.deepEqual(otlpJsonToProtobuf([]), { ok: false, error: 'an ExportTraceServiceRequest must be an object' });
  const wrongType = otlpJsonToProtobuf({ resourceSpans: 'many' });
  assert.ok(!wrongType.ok);
  assert.match(wrongType.error, /^not an ExportTraceServiceRequest: .*resourceSpans/);
});

test('link ids come back as hex and bytes values as base64, also inside arrays and key-value lists', () => {
  const bytesValue = Buffer.from('hi').toString('base64');
  const request = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'r', value: { bytesValue } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: TRACE,
                spanId: '1111111111111111',
                attributes: [
                  { key: 'list', value: { arrayValue: { values: [{ bytesValue }] } } },
                  { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { bytesValue } }] } } },
                ],
                links: [{ traceId: 'cd'.repeat(16), spanId: '2222222222222222', attributes: [{ key: 'l', value: { bytesValue } }] }],
              },
            ],
          },
        ],
      },
    ],
  };
  const bytes = otlpJsonToProtobuf(request);
  assert.ok(bytes.ok);
  const back = otlpProtobufToJson(bytes.value) as { ok: true; value: any };
  const rs = back.value.resourceSpans[0];
  const span = rs.scopeSpans[0].spans[0];
  assert.deepEqual(
    [
      rs.resource.attributes[0].value.bytesValue,
      span.attributes[0].value.arrayValue.values[0].bytesValue,
      span.attributes[1].value.kvlistValue.values[0].value.bytesValue,
      span.links[0].traceId,
      span.links[0].spanId,
      span.links[0].attributes[0].value.bytesValue,
    ],
    [bytesValue, bytesValue, bytesValue, 'cd'.repeat(16), '2222222222222222', bytesValue],
  );
});
