// The span exporter's OTLP protocols against real loopback servers: http/protobuf posts the
// protobuf request to /v1/traces as application/x-protobuf; grpc calls TraceService/Export with
// the same bytes; a collector's refusal (an HTTP status, a gRPC status) drops the batch, counts
// the failed request and logs the status.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/log.js';
import type { OtlpProtocol } from '../../api/telemetry.js';
import { closeGrpcCollectors, TRACE_EXPORT_METHOD } from '../../otlp/otlp-grpc.js';
import { encodeSpansProtobuf } from './otlp-protobuf.js';
import { SpanExporter } from './span-exporter.js';
import { SPAN_KIND_SERVER, STATUS_UNSET, type FinishedSpan } from './span.js';

const resource = { 'service.name': 'payments', 'service.namespace': 'default', 'service.instance.id': 'sidecar~1' };
const span: FinishedSpan = {
  traceId: 'c'.repeat(32),
  spanId: 'd'.repeat(16),
  parentSpanId: undefined,
  traceState: undefined,
  name: 'GET /pay',
  kind: SPAN_KIND_SERVER,
  startMs: 1_700_000_000_000,
  endMs: 1_700_000_000_002,
  attributes: { 'http.request.method': 'GET' },
  statusCode: STATUS_UNSET,
  statusMessage: undefined,
};

function exporter(t: TestContext, protocol: OtlpProtocol) {
  const warnings: string[] = [];
  const logger = { warn: (_o: object, msg: string) => void warnings.push(msg) } as unknown as Logger;
  const e = new SpanExporter({ resource, protocol, intervalMs: 60_000, logger });
  t.after(() => e.close());
  return { e, warnings };
}

async function httpCollector(t: TestContext, status: number) {
  const got: { url?: string; type?: string; body: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function grpcCollector(t: TestContext, answer: grpc.ServiceError | null) {
  const got: Buffer[] = [];
  const server = new grpc.Server();
  const identity = (b: Buffer) => b;
  server.addService(
    {
      Export: {
        path: TRACE_EXPORT_METHOD,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        got.push(call.request);
        if (answer) done(answer);
        else done(null, Buffer.alloc(0)); // an empty ExportTraceServiceResponse: full success
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.after(() => {
    closeGrpcCollectors();
    server.forceShutdown();
  });
  return { got, url: `http://127.0.0.1:${port}` };
}

test('http/protobuf posts the protobuf request to /v1/traces', async (t) => {
  const c = await httpCollector(t, 200);
  const { e } = exporter(t, 'http/protobuf');
  e.record(c.url, span);
  await e.flush();
  assert.deepEqual(
    c.got.map((g) => [g.url, g.type]),
    [['/v1/traces', 'application/x-protobuf']],
  );
  assert.ok(c.got[0]!.body.equals(encodeSpansProtobuf(resource, [span])));
  assert.deepEqual(e.counts, { exported: 1, dropped: 0, failedRequests: 0 });
});

test('http/protobuf: a collector answering 503 costs the batch, counted and logged with the status', async (t) => {
  const c = await httpCollector(t, 503);
  const { e, warnings } = exporter(t, 'http/protobuf');
  e.record(c.url, span);
  e.record(c.url, span);
  await e.flush();
  assert.equal(c.got.length, 1);
  assert.deepEqual(e.counts, { exported: 0, dropped: 2, failedRequests: 1 });
  assert.match(warnings.join('\n'), /could not export spans to http:\/\/127\.0\.0\.1:\d+: HTTP 503/);
});

test('grpc calls TraceService/Export with the protobuf request', async (t) => {
  const c = await grpcCollector(t, null);
  const { e } = exporter(t, 'grpc');
  e.record(c.url, span);
  await e.flush();
  assert.equal(c.got.length, 1);
  assert.ok(c.got[0]!.equals(encodeSpansProtobuf(resource, [span])));
  assert.deepEqual(e.counts, { exported: 1, dropped: 0, failedRequests: 0 });
});

test("grpc: a collector's status (RESOURCE_EXHAUSTED) costs the batch, counted and logged with the status and details", async (t) => {
  const c = await grpcCollector(t, Object.assign(new Error('quota'), { code: grpc.status.RESOURCE_EXHAUSTED, details: 'over quota', metadata: new grpc.Metadata() }));
  const { e, warnings } = exporter(t, 'grpc');
  e.record(c.url, span);
  await e.flush();
  assert.deepEqual(e.counts, { exported: 0, dropped: 1, failedRequests: 1 });
  assert.match(warnings.join('\n'), /gRPC status RESOURCE_EXHAUSTED \(8\): over quota/);
});

test('grpc: a collector nobody serves fails within the deadline, counted', { timeout: 30_000 }, async (t) => {
  const free = await httpCollector(t, 200); // a port that speaks HTTP/1.1, not gRPC
  const { e, warnings } = exporter(t, 'grpc');
  e.record(free.url, span);
  await e.flush();
  assert.deepEqual(e.counts, { exported: 0, dropped: 1, failedRequests: 1 });
  assert.match(warnings.join('\n'), /gRPC status \w+ \(\d+\)/);
  closeGrpcCollectors();
});

test('each record names its protocol: spans for one collector by two protocols go in two batches, each in its encoding', async (t) => {
  const c = await httpCollector(t, 200);
  const { e } = exporter(t, 'http/json');
  e.record(c.url, span, 'http/protobuf');
  e.record(c.url, span);
  e.record(c.url, span, 'http/protobuf');
  await e.flush();
  assert.deepEqual(c.got.map((g) => g.type).sort(), ['application/json', 'application/x-protobuf']);
  const protobufBatch = c.got.find((g) => g.type === 'application/x-protobuf')!;
  assert.ok(protobufBatch.body.equals(encodeSpansProtobuf(resource, [span, span])));
  assert.deepEqual(e.counts, { exported: 3, dropped: 0, failedRequests: 0 });
});
