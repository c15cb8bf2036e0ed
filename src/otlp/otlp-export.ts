// Sends one encoded OTLP export request by the chosen protocol: POST /v1/traces (JSON or
// protobuf) or TraceService/Export over gRPC. grpc-js costs a process ~12 MB to load, so it is
// imported only when a collector is spoken to over gRPC. Used by the proxy's span exporter and
// the control plane's span forwarder.
import type { OtlpProtocol } from '../api/telemetry.js';
import { postOtlp, type CollectorTls } from './otlp-http.js';

/** Sends `body` (JSON text for http/json, ExportTraceServiceRequest bytes otherwise) to `collector`; rejects naming the HTTP or gRPC status. */
export async function exportOtlp(collector: string, protocol: OtlpProtocol, body: string | Uint8Array, tls: CollectorTls): Promise<void> {
  if (protocol !== 'grpc') return postOtlp(collector, body, protocol, tls);
  if (typeof body === 'string') throw new Error('OTLP/gRPC takes a protobuf request, not JSON text');
  const { exportOverGrpc } = await import('./otlp-grpc.js');
  return exportOverGrpc(collector, body, tls);
}
