// The protobuf encoding: the proxy's spans shown to OpenTelemetry's serializers as ReadableSpans
// say what encodeSpans (the JSON the control plane takes) says, and the protobuf bytes carry
// them at the OTLP field numbers.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { encodeSpans } from './otlp-json.js';
import { asReadableSpan, encodeSpansProtobuf } from './otlp-protobuf.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, STATUS_UNSET, type FinishedSpan } from './span.js';

const require = createRequire(import.meta.url);

const resource = { 'service.name': 'frontend', 'service.namespace': 'default', 'service.instance.id': 'sidecar~1' };
const spans: FinishedSpan[] = [
  {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: undefined,
    traceState: 'a=1',
    name: 'GET /items',
    kind: SPAN_KIND_SERVER,
    startMs: 1_700_000_000_123.5,
    endMs: 1_700_000_000_125.25,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'trellis.ratio': 0.5, ok: true },
    statusCode: STATUS_UNSET,
    statusMessage: undefined,
  },
  {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '1111111111111111',
    parentSpanId: '00f067aa0ba902b7',
    traceState: undefined,
    name: 'GET /items',
    kind: SPAN_KIND_CLIENT,
    startMs: 1_700_000_000_124,
    endMs: 1_700_000_000_125,
    attributes: { 'error.type': 'UPSTREAM_RESET' },
    statusCode: STATUS_ERROR,
    statusMessage: 'reset',
  },
];

test("OpenTelemetry's JSON serializer, given the spans as ReadableSpans, writes what encodeSpans writes", () => {
  const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as { JsonTraceSerializer: { serializeRequest(s: unknown[]): Uint8Array } };
  const shared = { attributes: resource };
  const theirs = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans.map((s) => asReadableSpan(s, shared)))).toString('utf8'));
  const ours = JSON.parse(encodeSpans(resource, spans));
  const pick = (r: any) => ({
    resource: r.resourceSpans[0].resource.attributes,
    scope: r.resourceSpans[0].scopeSpans[0].scope,
    spans: (r.resourceSpans[0].scopeSpans[0].spans as any[]).map((s) => ({
      ...['traceId', 'spanId', 'parentSpanId', 'traceState', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'status'].reduce((o, k) => ({ ...o, [k]: s[k] }), {}),
      attributes: [...s.attributes].sort((x: any, y: any) => x.key.localeCompare(y.key)),
    })),
  });
  assert.deepEqual(pick(theirs), pick(ours));
});

/** Fields of one protobuf message by number (length-delimited ones as bytes, varints as numbers, fixed64 as bigint). */
function fields(bytes: Uint8Array): Map<number, unknown[]> {
  const r = protobuf.Reader.create(bytes);
  const out = new Map<number, unknown[]>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    const [no, wire] = [tag >>> 3, tag & 7];
    const v =
      wire === 2
        ? r.bytes()
        : wire === 0
          ? Number(r.uint64().toString())
          : wire === 1
            ? BigInt(r.fixed64().toString())
            : wire === 5
              ? r.fixed32()
              : assert.fail(`wire type ${wire}`);
    out.set(no, [...(out.get(no) ?? []), v]);
  }
  return out;
}
const one = (m: Map<number, unknown[]>, no: number) => m.get(no)?.[0] as Uint8Array;

test('the protobuf request carries ids as bytes, nanosecond times, names, kinds, attributes and status at their OTLP field numbers', () => {
  const request = fields(encodeSpansProtobuf(resource, spans));
  const resourceSpans = fields(one(request, 1)); // ExportTraceServiceRequest.resource_spans = 1
  const resourceAttrs = fields(one(resourceSpans, 1))
    .get(1)!
    .map((kv) => Buffer.from(one(fields(kv as Uint8Array), 1)).toString());
  assert.deepEqual(resourceAttrs.sort(), ['service.instance.id', 'service.name', 'service.namespace']);
  const scopeSpans = fields(one(resourceSpans, 2)); // ResourceSpans.scope_spans = 2
  assert.equal(Buffer.from(one(fields(one(scopeSpans, 1)), 1)).toString(), 'trellis-proxy'); // InstrumentationScope.name
  const [server, client] = scopeSpans.get(2)!.map((b) => fields(b as Uint8Array)); // ScopeSpans.spans = 2
  assert.equal(Buffer.from(one(server!, 1)).toString('hex'), spans[0]!.traceId);
  assert.equal(Buffer.from(one(server!, 2)).toString('hex'), spans[0]!.spanId);
  assert.equal(Buffer.from(one(server!, 3)).toString(), 'a=1');
  assert.equal(server!.get(4), undefined, 'a root span has no parent_span_id');
  assert.equal(Buffer.from(one(client!, 4)).toString('hex'), spans[0]!.spanId);
  assert.equal(Buffer.from(one(server!, 5)).toString(), 'GET /items');
  assert.deepEqual([server!.get(6)?.[0], client!.get(6)?.[0]], [SPAN_KIND_SERVER, SPAN_KIND_CLIENT]);
  assert.deepEqual([server!.get(7)?.[0], server!.get(8)?.[0]], [1_700_000_000_123_500_000n, 1_700_000_000_125_250_000n]);
  const attrs = server!.get(9)!.map((kv) => {
    const f = fields(kv as Uint8Array);
    const value = fields(one(f, 2)); // AnyValue: string 1, bool 2, int 3, double 4
    return [Buffer.from(one(f, 1)).toString(), [...value.keys()][0]];
  });
  assert.deepEqual(
    new Map(attrs as [string, number][]),
    new Map([
      ['http.request.method', 1],
      ['http.response.status_code', 3],
      ['trellis.ratio', 4],
      ['ok', 2],
    ]),
  );
  const status = fields(one(client!, 15));
  assert.deepEqual([Buffer.from(one(status, 2)).toString(), status.get(3)?.[0]], ['reset', STATUS_ERROR]);
});
