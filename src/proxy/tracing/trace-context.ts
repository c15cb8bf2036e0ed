// Trace context on the wire: W3C `traceparent`/`tracestate` and B3 (single `b3` header and the
// `x-b3-*` multi headers), parsed from a request and written for the next hop. Malformed
// values are ignored (a new trace starts), as both specs ask.

/** Which header format a request carried (and the next hop gets back, beside traceparent). */
export const enum TraceFormat {
  None = 0,
  W3C = 1,
  B3Single = 2,
  B3Multi = 3,
}

/** The trace a request belongs to, as the previous hop described it. */
export interface IncomingTrace {
  /** 32 lower-case hex digits; undefined when the caller sent only a decision (B3 `b3: 0`, a lone `x-b3-sampled`). */
  readonly traceId: string | undefined;
  /** The caller's span (16 hex digits); undefined with the trace id. */
  readonly parentSpanId: string | undefined;
  /** The caller's decision; undefined when it left the decision to us (B3 without a flag). */
  readonly sampled: boolean | undefined;
  readonly format: TraceFormat;
  /** W3C tracestate, passed on unchanged. */
  readonly traceState: string | undefined;
}

/** Header names the proxy rewrites on the next hop (the incoming values are not copied). */
export const TRACE_HEADERS: ReadonlySet<string> = new Set(['traceparent', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags']);

const HEX16 = /^[0-9a-f]{16}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const ZERO16 = '0000000000000000';
const ZERO32 = '00000000000000000000000000000000';

/** Parses a `traceparent` value (version 00, or a later version read as 00 per the spec). */
export function parseTraceparent(value: string, traceState: string | undefined): IncomingTrace | undefined {
  const v = value.trim().toLowerCase();
  if (v.length < 55 || v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return undefined;
  const version = v.slice(0, 2);
  if (!/^[0-9a-f]{2}$/.test(version) || version === 'ff' || (version === '00' && v.length !== 55)) return undefined;
  if (version !== '00' && v.length > 55 && v[55] !== '-') return undefined;
  const traceId = v.slice(3, 35);
  const parentSpanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX32.test(traceId) || traceId === ZERO32 || !HEX16.test(parentSpanId) || parentSpanId === ZERO16 || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  return { traceId, parentSpanId, sampled: (parseInt(flags, 16) & 1) === 1, format: TraceFormat.W3C, traceState };
}

/** A B3 trace id: 16 hex digits are left-padded to 32, as B3 allows 64-bit ids. */
function b3TraceId(v: string): string | undefined {
  const id = v.toLowerCase();
  if (HEX32.test(id)) return id === ZERO32 ? undefined : id;
  if (HEX16.test(id)) return id === ZERO16 ? undefined : ZERO16 + id;
  return undefined;
}

function b3Sampled(v: string | undefined): boolean | undefined {
  if (v === '1' || v === 'd' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** Parses the single `b3` header: `{traceId}-{spanId}[-{sampled}[-{parentSpanId}]]`, or a lone `0`/`1`/`d` (a decision without ids). */
export function parseB3Single(value: string): IncomingTrace | undefined {
  const parts = value.trim().split('-');
  if (parts.length === 1) {
    const sampled = b3Sampled(parts[0]!.toLowerCase());
    return sampled === undefined ? undefined : { traceId: undefined, parentSpanId: undefined, sampled, format: TraceFormat.B3Single, traceState: undefined };
  }
  if (parts.length < 2 || parts.length > 4) return undefined;
  const traceId = b3TraceId(parts[0]!);
  const spanId = parts[1]!.toLowerCase();
  if (traceId === undefined || !HEX16.test(spanId) || spanId === ZERO16) return undefined;
  return { traceId, parentSpanId: spanId, sampled: b3Sampled(parts[2]), format: TraceFormat.B3Single, traceState: undefined };
}

/** Parses the `x-b3-*` headers. */
export function parseB3Multi(traceIdHeader: string, spanIdHeader: string | undefined, sampled: string | undefined, flags: string | undefined): IncomingTrace | undefined {
  const traceId = b3TraceId(traceIdHeader.trim());
  const spanId = spanIdHeader?.trim().toLowerCase();
  if (traceId === undefined || spanId === undefined || !HEX16.test(spanId) || spanId === ZERO16) return undefined;
  return { traceId, parentSpanId: spanId, sampled: flags?.trim() === '1' ? true : b3Sampled(sampled?.trim()), format: TraceFormat.B3Multi, traceState: undefined };
}

/** The trace context of a request: traceparent first, then b3, then x-b3-*; undefined when none is valid. */
export function readTraceContext(req: { header(lowerName: string): string | undefined }): IncomingTrace | undefined {
  const tp = req.header('traceparent');
  if (tp !== undefined) {
    const t = parseTraceparent(tp, req.header('tracestate'));
    // B3 beside it (an app forwarding both): the next hop gets B3 back in that format too.
    if (t !== undefined) return { ...t, format: b3FormatBeside(req) };
  }
  const b3 = req.header('b3');
  if (b3 !== undefined) {
    const t = parseB3Single(b3);
    if (t !== undefined) return t;
  }
  const b3Trace = req.header('x-b3-traceid');
  const b3Sampled = req.header('x-b3-sampled');
  const b3Flags = req.header('x-b3-flags');
  if (b3Trace !== undefined) return parseB3Multi(b3Trace, req.header('x-b3-spanid'), b3Sampled, b3Flags);
  return b3Sampled !== undefined || b3Flags !== undefined ? b3Decision(b3Sampled, b3Flags) : undefined;
}

function b3FormatBeside(req: { header(lowerName: string): string | undefined }): TraceFormat {
  if (req.header('b3') !== undefined) return TraceFormat.B3Single;
  return req.header('x-b3-traceid') !== undefined || req.header('x-b3-sampled') !== undefined ? TraceFormat.B3Multi : TraceFormat.W3C;
}

/** `x-b3-sampled`/`x-b3-flags` without ids: the caller decided, the trace starts here (B3 allows it). */
function b3Decision(sampled: string | undefined, flags: string | undefined): IncomingTrace | undefined {
  const decision = flags?.trim() === '1' ? true : b3Sampled(sampled?.trim());
  return decision === undefined ? undefined : { traceId: undefined, parentSpanId: undefined, sampled: decision, format: TraceFormat.B3Multi, traceState: undefined };
}

/**
 * The headers for the next hop (flat `[name, value, ...]`): always `traceparent` (and the
 * incoming `tracestate` passes through with the other headers), plus B3 in the format the request came with.
 */
export function traceHeaders(traceId: string, spanId: string, parentSpanId: string | undefined, sampled: boolean, format: TraceFormat): string[] {
  const out = ['traceparent', `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`];
  if (format === TraceFormat.B3Single) {
    out.push('b3', `${traceId}-${spanId}-${sampled ? '1' : '0'}${parentSpanId !== undefined ? `-${parentSpanId}` : ''}`);
  } else if (format === TraceFormat.B3Multi) {
    out.push('x-b3-traceid', traceId, 'x-b3-spanid', spanId, 'x-b3-sampled', sampled ? '1' : '0');
    if (parentSpanId !== undefined) out.push('x-b3-parentspanid', parentSpanId);
  }
  return out;
}
