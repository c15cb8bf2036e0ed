// A finished span as the proxy records it: plain fields filled when the request is over,
// turned into OTLP only when a batch is exported.

/** OTLP span kinds the proxy makes: SERVER for inbound hops, CLIENT for outbound ones. */
export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;
/** OTLP status codes. */
export const STATUS_UNSET = 0;
export const STATUS_ERROR = 2;

export type SpanAttribute = string | number | boolean;

export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string | undefined;
  readonly name: string;
  readonly kind: number;
  /** Unix time in milliseconds, fractional (performance.timeOrigin + performance.now()). */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Readonly<Record<string, SpanAttribute>>;
  readonly statusCode: number;
  readonly statusMessage: string | undefined;
}

/** Who emits the spans (the OTLP resource). */
export interface SpanResource {
  readonly 'service.name': string;
  readonly 'service.namespace': string;
  readonly 'service.instance.id': string;
  readonly [key: string]: string;
}
