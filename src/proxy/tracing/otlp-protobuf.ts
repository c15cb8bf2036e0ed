// OTLP protobuf encoding of spans (ExportTraceServiceRequest), for collectors spoken to over
// http/protobuf or gRPC: the proxy's finished spans are shown to OpenTelemetry JS's own protobuf
// serializer as the ReadableSpans it takes. Only its trace serializer is loaded (8.5 MB of RSS,
// docs/benchmarks.md), and only by a proxy or control plane that exports protobuf: callers
// import this module lazily.
import { createRequire } from 'node:module';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { msToNanos, SCOPE } from './otlp-json.js';
import type { FinishedSpan, SpanResource } from './span.js';

const require = createRequire(import.meta.url);
// The package has no exports map; its index would load every signal's serializers (16 MB).
const { serializeTraceExportRequest } = require('@opentelemetry/otlp-transformer/build/src/trace/protobuf/trace-serializer.js') as {
  serializeTraceExportRequest(this: void, spans: readonly ReadableSpan[]): Uint8Array;
};

const SAMPLED = 1;

function hrTime(ms: number): [number, number] {
  const ns = BigInt(msToNanos(ms));
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

/** `s` as the fields of a ReadableSpan the serializer reads; every span of a batch shares `resource` (spans are grouped by its identity). */
export function asReadableSpan(s: FinishedSpan, resource: { attributes: SpanResource }): ReadableSpan {
  const traceState = s.traceState;
  return {
    name: s.name,
    kind: s.kind - 1, // the API's SpanKind is the OTLP value minus one
    spanContext: () => ({ traceId: s.traceId, spanId: s.spanId, traceFlags: SAMPLED, ...(traceState !== undefined ? { traceState: { serialize: () => traceState } } : {}) }),
    // A proxy's span always continues a caller's context (from the request's headers): remote.
    parentSpanContext: s.parentSpanId !== undefined ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: SAMPLED, isRemote: true } : undefined,
    startTime: hrTime(s.startMs),
    endTime: hrTime(s.endMs),
    status: s.statusMessage !== undefined ? { code: s.statusCode, message: s.statusMessage } : { code: s.statusCode },
    attributes: s.attributes,
    links: [],
    events: [],
    duration: [0, 0],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as unknown as ReadableSpan;
}

/** The protobuf body of POST /v1/traces (application/x-protobuf) or of TraceService/Export over gRPC. */
export function encodeSpansProtobuf(resource: SpanResource, spans: readonly FinishedSpan[]): Uint8Array {
  const shared = { attributes: resource };
  return serializeTraceExportRequest(spans.map((s) => asReadableSpan(s, shared)));
}
