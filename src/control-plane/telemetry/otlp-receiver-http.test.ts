// The receiver over loopback HTTP: OTLP protobuf (as OpenTelemetry JS's serializer writes it)
// and JSON are kept alike; a bad body is a 400 naming what was wrong, another content type a
// 415, an oversized one a 413; forwarding passes the body on as received when the encodings
// match and re-encodes it when they differ.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../common/wait.js';
import { otlpJsonToProtobuf, otlpProtobufToJson } from '../../otlp/otlp-protos.js';
import { MAX_OTLP_BYTES, receiveSpans, type SpanForwarding } from './otlp-receiver.js';
import { SpanStore } from './span-store.js';

const require = createRequire(import.meta.url);
const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as { JsonTraceSerializer: { serializeRequest(this: void, s: unknown[]): Uint8Array } };
const { serializeTraceExportRequest } = require('@opentelemetry/otlp-transformer/build/src/trace/protobuf/trace-serializer.js') as {
  serializeTraceExportRequest(this: void, s: unknown[]): Uint8Array;
};

const TRACE = 'ab'.repeat(16);
function readable(spanId: string, parent?: string) {
  return {
    name: 'GET /pay',
    kind: 1, // SERVER in the API's numbering (OTLP 2)
    spanContext: () => ({ traceId: TRACE, spanId, traceFlags: 1 }),
    parentSpanContext: parent !== undefined ? { traceId: TRACE, spanId: parent, traceFlags: 1, isRemote: true } : undefined,
    startTime: [1_700_000_000, 0],
    endTime: [1_700_000_000, 2_000_000],
    status: { code: 0 },
    attributes: { 'http.response.status_code': 200 },
    links: [],
    events: [],
    duration: [0, 2_000_000],
    ended: true,
    resource: { attributes: { 'service.name': 'payments' } },
    instrumentationScope: { name: 'test' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
const SPANS = [readable('1'.repeat(16)), readable('2'.repeat(16), '1'.repeat(16))];

async function serve(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function receiver(t: TestContext, forwarding?: SpanForwarding) {
  const store = new SpanStore();
  const url = await serve(t, (req, res) => receiveSpans(store, req, res, forwarding));
  const post = async (type: string, body: Uint8Array | string) => {
    const r = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': type }, body });
    return { status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) };
  };
  return { store, post };
}

/** A collector that keeps what it is sent. */
async function collector(t: TestContext) {
  const got: { type: string | undefined; body: Buffer }[] = [];
  const url = await serve(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => (got.push({ type: req.headers['content-type'], body: Buffer.concat(chunks) }), res.writeHead(200).end()));
  });
  return { url, got };
}

test('a protobuf body is kept like a JSON one and answered with an empty protobuf response', async (t) => {
  const r = await receiver(t);
  const answer = await r.post('application/x-protobuf', serializeTraceExportRequest(SPANS));
  assert.deepEqual([answer.status, answer.type, answer.body.length], [200, 'application/x-protobuf', 0]);
  const kept = r.store.trace(TRACE)!;
  assert.deepEqual(
    kept.map((s) => [s.spanId, s.parentSpanId, s.service, s.kind, s.name, s.attributes['http.response.status_code'], s.endUnixMs - s.startUnixMs]),
    [
      ['1'.repeat(16), undefined, 'payments', 2, 'GET /pay', 200, 2],
      ['2'.repeat(16), '1'.repeat(16), 'payments', 2, 'GET /pay', 200, 2],
    ],
  );
  const json = await r.post('application/json; charset=utf-8', Buffer.from(JsonTraceSerializer.serializeRequest([readable('3'.repeat(16))])));
  assert.deepEqual([json.status, json.body.toString()], [200, '{}']);
  assert.equal(r.store.trace(TRACE)!.length, 3);
});

test('bad bodies are refused naming what was wrong; other content types get 415, oversized ones 413', async (t) => {
  const r = await receiver(t);
  const problem = async (type: string, body: Uint8Array | string) => {
    const a = await r.post(type, body);
    return [a.status, (JSON.parse(a.body.toString()) as { error: { message: string } }).error.message];
  };
  const [status, message] = await problem('application/x-protobuf', Uint8Array.from([0x0a, 0xff, 0x01]));
  assert.equal(status, 400);
  assert.match(message as string, /^not an ExportTraceServiceRequest in protobuf: /);
  // Valid protobuf, not a valid span: a span id of 4 bytes.
  const shortId = otlpJsonToProtobuf({
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: '11111111', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }],
  });
  assert.ok(shortId.ok);
  assert.deepEqual(await problem('application/x-protobuf', shortId.value), [
    400,
    'not a valid ExportTraceServiceRequest: resourceSpans[0].scopeSpans[0].spans[0].spanId: must be 16 hex digits, got "11111111"',
  ]);
  assert.deepEqual(await problem('application/json', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"1111111111111111"}]}]}]}'), [
    400,
    'not a valid ExportTraceServiceRequest: resourceSpans[0].scopeSpans[0].spans[0].traceId: must be 32 hex digits, got "zz"; resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: must be nanoseconds, got undefined; resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: must be nanoseconds, got undefined',
  ]);
  assert.deepEqual(await problem('text/plain', 'hello'), [
    415,
    'content-type text/plain is not supported: the receiver takes OTLP/HTTP JSON (application/json) or protobuf (application/x-protobuf)',
  ]);
  const big = await problem('application/x-protobuf', new Uint8Array(MAX_OTLP_BYTES + 1));
  assert.deepEqual(big, [413, `the request has ${MAX_OTLP_BYTES + 1} bytes; at most ${MAX_OTLP_BYTES} are taken`]);
  assert.equal(r.store.list(10).length, 0, 'nothing of a refused body is kept');
});

test('forwarding passes a body on as received when the encodings match, and re-encodes it when they differ', async (t) => {
  const c = await collector(t);
  const protobufBody = serializeTraceExportRequest(SPANS);
  const jsonBody = Buffer.from(JsonTraceSerializer.serializeRequest(SPANS));

  const toProtobuf = await receiver(t, { to: c.url, protocol: 'http/protobuf' });
  await toProtobuf.post('application/x-protobuf', protobufBody);
  await toProtobuf.post('application/json', jsonBody);
  await waitFor(async () => c.got.length === 2, 'two forwarded requests', 5000);
  assert.deepEqual(
    c.got.map((g) => g.type),
    ['application/x-protobuf', 'application/x-protobuf'],
  );
  assert.ok(c.got[0]!.body.equals(protobufBody), 'protobuf in, protobuf out: the same bytes');
  const reencoded = otlpProtobufToJson(c.got[1]!.body);
  const direct = otlpProtobufToJson(protobufBody);
  assert.ok(reencoded.ok && direct.ok);
  const spansOf = (j: any) => j.resourceSpans[0].scopeSpans[0].spans.map((s: any) => [s.traceId, s.spanId, s.parentSpanId, s.startTimeUnixNano, s.name]);
  assert.deepEqual(spansOf(reencoded.value), spansOf(direct.value), 'JSON in, protobuf out: the same spans');

  c.got.length = 0;
  const toJson = await receiver(t, { to: c.url, protocol: 'http/json' });
  await toJson.post('application/json', jsonBody);
  await toJson.post('application/x-protobuf', protobufBody);
  await waitFor(async () => c.got.length === 2, 'two forwarded requests', 5000);
  assert.deepEqual(
    c.got.map((g) => g.type),
    ['application/json', 'application/json'],
  );
  assert.ok(c.got[0]!.body.equals(jsonBody), 'JSON in, JSON out: the same text');
  assert.deepEqual(spansOf(JSON.parse(c.got[1]!.body.toString())), spansOf(direct.value), 'protobuf in, JSON out: the same spans');
});
