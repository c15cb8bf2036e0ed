// OpenTelemetry's HTTP semantic conventions as the proxy's metrics apply them: the bounded
// value sets (known methods, error types) and the accumulator behind one series of
// http.{server,client}.request.duration and the body-size histograms. Every label value comes
// from config or a fixed list, never from the request's path or headers, so random paths and
// ids add no series.

/** Latency buckets in seconds: 100 µs to 10 s, dense below 10 ms where proxied requests live. */
export const DURATION_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** OpenTelemetry's known methods; any other is reported as `_OTHER`. */
export const KNOWN_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', '_OTHER'] as const;
const OTHER_METHOD = KNOWN_METHODS.length - 1;

/** The index of `method` in KNOWN_METHODS (case-sensitive, as the conventions say). */
export function methodIndex(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'CONNECT':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'TRACE':
      return 7;
    case 'PATCH':
      return 8;
    default:
      return OTHER_METHOD;
  }
}

/** Body size buckets in bytes (the conventions leave them open): 0 B to 10 MB. */
export const BODY_SIZE_BUCKETS: readonly number[] = [0, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/** `error.type` slot meaning "no error"; slot 1 is "the status code", higher slots are proxy error codes. */
export const NO_ERROR = 0;
export const ERROR_IS_STATUS = 1;
const errorSlots = new Map<string, number>();
const errorNames: string[] = ['', ''];

/** The slot of a proxy error code (from the errors catalog: a bounded set), interned once. */
export function errorSlot(code: string): number {
  let slot = errorSlots.get(code);
  if (slot === undefined) {
    slot = errorNames.length;
    errorNames.push(code);
    errorSlots.set(code, slot);
  }
  return slot;
}

/** The `error.type` label of a slot, "" for none. */
export function errorTypeOf(slot: number, status: number): string {
  return slot === NO_ERROR ? '' : slot === ERROR_IS_STATUS ? String(status) : errorNames[slot]!;
}

const STATUS_SLOTS = 1000;
const ERROR_SLOTS = 256;

/** The key of (method, status, error) in an HttpCells map: a small integer, so look-ups allocate nothing. */
export function cellKey(method: number, status: number, error: number): number {
  return (method * STATUS_SLOTS + (status < STATUS_SLOTS ? status : 0)) * ERROR_SLOTS + (error < ERROR_SLOTS ? error : ERROR_IS_STATUS);
}

/** Splits a cellKey back into its parts. */
export function decodeCellKey(key: number): { method: string; status: number; error: number } {
  const error = key % ERROR_SLOTS;
  const rest = (key - error) / ERROR_SLOTS;
  const status = rest % STATUS_SLOTS;
  return { method: KNOWN_METHODS[(rest - status) / STATUS_SLOTS]!, status, error };
}

function observe(buckets: readonly number[], counts: Float64Array, value: number): void {
  for (let i = 0; i < buckets.length; i++) {
    if (value <= buckets[i]!) {
      counts[i]!++;
      return;
    }
  }
}

/** Duration and body sizes of the requests of one (method, status, error type). Non-cumulative bucket counts; +Inf is `count`. */
export class HttpCell {
  readonly durationCounts = new Float64Array(DURATION_BUCKETS.length);
  durationSum = 0;
  readonly requestSizeCounts = new Float64Array(BODY_SIZE_BUCKETS.length);
  requestSizeSum = 0;
  readonly responseSizeCounts = new Float64Array(BODY_SIZE_BUCKETS.length);
  responseSizeSum = 0;
  count = 0;

  record(seconds: number, requestBytes: number, responseBytes: number): void {
    this.count++;
    this.durationSum += seconds;
    this.requestSizeSum += requestBytes;
    this.responseSizeSum += responseBytes;
    observe(DURATION_BUCKETS, this.durationCounts, seconds);
    observe(BODY_SIZE_BUCKETS, this.requestSizeCounts, requestBytes);
    observe(BODY_SIZE_BUCKETS, this.responseSizeCounts, responseBytes);
  }
}

/** The cells of one server (port and scheme) of a RequestStats, by cellKey. */
export type HttpCells = Map<number, HttpCell>;

/** The key of (server port, scheme) in RequestStats.http. */
export const serverKey = (port: number, https: boolean): number => port * 2 + (https ? 1 : 0);
export const serverOf = (key: number): { port: number; scheme: 'http' | 'https' } => ({ port: key >> 1, scheme: key & 1 ? 'https' : 'http' });
