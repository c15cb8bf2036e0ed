// A test OTLP collector on loopback, independent of Trellis's own OTLP code: OTLP/HTTP on
// /v1/traces (JSON, or protobuf decoded with protobufjs from the vendored OpenTelemetry protos)
// and, when asked, OTLP/gRPC (TraceService/Export served by @grpc/grpc-js from the same protos
// through @grpc/proto-loader). Keeps every span it is sent, with its resource's service.name,
// its attributes as plain values and the protocol it came by.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { cleanup } from './cleanup.js';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, string | number | boolean>;
  /** How it arrived: http/json, http/protobuf or grpc. */
  protocol: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** protos/ of the repository (this file runs from test/integration or dist/test/integration). */
const PROTOS = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../protos' : '../../protos');
const SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

let requestType: protobuf.Type | undefined;
function exportRequestType(): protobuf.Type {
  if (requestType) return requestType;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTOS, target);
  root.loadSync(SERVICE_PROTO);
  return (requestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'));
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
const value = (v: AnyValue): string | number | boolean => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? ''));
const attrs = (list: { key: string; value: AnyValue }[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, value(a.value)]));
const hex = (id: unknown) => (typeof id === 'string' ? id : Buffer.from(id as Uint8Array).toString('hex'));

/** The spans of an ExportTraceServiceRequest in JSON form (ids hex, or bytes from a protobuf decoder). */
function spansOf(request: any, protocol: string): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)['service.name']);
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? []) {
        const parent = s.parentSpanId === undefined ? '' : hex(s.parentSpanId);
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          ...(parent !== '' ? { parentSpanId: parent } : {}),
          name: s.name,
          kind: typeof s.kind === 'number' ? s.kind : Number(s.kind),
          service,
          attributes: attrs(s.attributes),
          protocol,
        });
      }
  }
  return out;
}

/**
 * Starts the collector (stopped when the test ends): `url` is the OTLP/HTTP base URL;
 * `grpcUrl` (with `grpc: true`) the OTLP/gRPC endpoint.
 */
export async function otlpCollector(t: TestContext, opts: { grpc?: boolean } = {}): Promise<{ url: string; grpcUrl: string | undefined; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const protobufBody = req.headers['content-type'] === 'application/x-protobuf';
      if (req.url === '/v1/traces' && req.method === 'POST') {
        if (protobufBody) {
          const type = exportRequestType();
          spans.push(...spansOf(type.toObject(type.decode(body), { longs: String, enums: Number }), 'http/protobuf'));
        } else spans.push(...spansOf(JSON.parse(body.toString('utf8')), 'http/json'));
      }
      if (protobufBody) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup(
    t,
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  let grpcUrl: string | undefined;
  if (opts.grpc) {
    const definition = protoLoader.loadSync(SERVICE_PROTO, { includeDirs: [PROTOS], longs: String, enums: Number });
    const pkg = grpc.loadPackageDefinition(definition) as any;
    const grpcServer = new grpc.Server();
    grpcServer.addService(pkg.opentelemetry.proto.collector.trace.v1.TraceService.service, {
      Export: (call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) => {
        spans.push(...spansOf(call.request, 'grpc'));
        done(null, {});
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    cleanup(t, () => new Promise<void>((r) => grpcServer.tryShutdown(() => r())));
    grpcUrl = `http://127.0.0.1:${port}`;
  }
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, grpcUrl, spans };
}
