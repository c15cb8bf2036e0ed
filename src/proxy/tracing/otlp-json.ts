// OTLP/HTTP JSON encoding of spans (ExportTraceServiceRequest, opentelemetry-proto's JSON
// mapping: hex ids, nanosecond times as decimal strings, enums as integers); the control
// plane's receiver decodes it in control-plane/telemetry. Written here by hand
// because loading @opentelemetry/otlp-transformer costs a proxy 11 MB (docs/benchmarks.md);
// a unit test checks the output against that package's serializer.
import type { FinishedSpan, SpanAttribute, SpanResource } from './span.js';

/** The instrumentation scope of every span the proxy makes. */
export const SCOPE = { name: 'trellis-proxy', version: '0.1.0' } as const;

type AnyValue = { stringValue: string } | { intValue: number } | { doubleValue: number } | { boolValue: boolean };

function anyValue(v: SpanAttribute): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  // intValue as a JSON number, as OpenTelemetry JS writes it (the JSON mapping takes numbers or strings).
  return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
}

function attributes(a: Readonly<Record<string, SpanAttribute>>): { key: string; value: AnyValue }[] {
  const out: { key: string; value: AnyValue }[] = [];
  for (const key in a) out.push({ key, value: anyValue(a[key]!) });
  return out;
}

/** Milliseconds (fractional) to nanoseconds as a decimal string, without losing integer precision. */
export function msToNanos(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}

/** The request body for POST /v1/traces with `spans`, all from `resource`. */
export function encodeSpans(resource: SpanResource, spans: readonly FinishedSpan[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: attributes(resource), droppedAttributesCount: 0 },
        scopeSpans: [
          {
            scope: { name: SCOPE.name, version: SCOPE.version },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId !== undefined ? { parentSpanId: s.parentSpanId } : {}),
              ...(s.traceState !== undefined ? { traceState: s.traceState } : {}),
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: msToNanos(s.startMs),
              endTimeUnixNano: msToNanos(s.endMs),
              attributes: attributes(s.attributes),
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              status: s.statusMessage !== undefined ? { code: s.statusCode, message: s.statusMessage } : { code: s.statusCode },
              links: [],
              droppedLinksCount: 0,
            })),
          },
        ],
      },
    ],
  });
}
