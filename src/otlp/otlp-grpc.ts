// OTLP/gRPC: one unary TraceService/Export call per export request, the request already
// encoded as protobuf. A collector is named as OpenTelemetry's exporters name it,
// http://host:4317 (plaintext) or https://host:4317 (TLS). grpc-js costs a process ~12 MB to
// load, so only otlp-export.ts imports this module, and only for a gRPC collector.
import * as grpc from '@grpc/grpc-js';

/** The OTLP trace export method's full path. */
export const TRACE_EXPORT_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** TLS material for an https collector (PEM). */
export interface GrpcCollectorTls {
  ca?: string | Buffer | (string | Buffer)[];
  key?: unknown;
  cert?: unknown;
}

const clients = new Map<string, grpc.Client>();

function pem(v: unknown): Buffer | null {
  if (typeof v === 'string') return Buffer.from(v);
  if (Buffer.isBuffer(v)) return v;
  return null;
}

/** The channel to `collector`, opened once; its TLS is what was given at the first call. */
function clientFor(collector: string, tls: GrpcCollectorTls): grpc.Client {
  let client = clients.get(collector);
  if (client !== undefined) return client;
  const url = new URL(collector);
  const roots = tls.ca === undefined ? null : Buffer.concat([tls.ca].flat().map((c) => Buffer.from(`${c.toString()}\n`)));
  const creds = url.protocol === 'https:' ? grpc.credentials.createSsl(roots, pem(tls.key), pem(tls.cert)) : grpc.credentials.createInsecure();
  client = new grpc.Client(url.host, creds);
  clients.set(collector, client);
  return client;
}

/** Sends one ExportTraceServiceRequest; rejects with the gRPC status when the collector refuses it. */
export function exportOverGrpc(collector: string, request: Uint8Array, tls: GrpcCollectorTls, timeoutMs = 5000): Promise<void> {
  const client = clientFor(collector, tls);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      TRACE_EXPORT_METHOD,
      (r: Uint8Array) => Buffer.from(r.buffer, r.byteOffset, r.byteLength),
      (b: Buffer) => b,
      request,
      { deadline: Date.now() + timeoutMs },
      (e: grpc.ServiceError | null) => (e ? reject(new Error(`gRPC status ${grpc.status[e.code] ?? e.code} (${e.code}): ${e.details}`)) : resolve()),
    );
  });
}

/** Closes every channel (for tests and shutdown). */
export function closeGrpcCollectors(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}
