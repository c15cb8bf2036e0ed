// Hot-path request accounting for one label set (direction, source and destination service
// and workload, route): plain numbers updated per request with no allocation, read into
// Prometheus series only when /metrics is scraped (and into JSON for the control plane).
import type { Direction } from '../config/runtime-config.js';
import { cellKey, DURATION_BUCKETS, HttpCell, KNOWN_METHODS, NO_ERROR, serverKey, type HttpCells } from './http-semconv.js';

export { DURATION_BUCKETS };

const UNKNOWN_SERVER = serverKey(0, false);
const OTHER_METHOD = KNOWN_METHODS.length - 1;

/** `grpcStatus` value meaning "not a gRPC response". */
export const NO_GRPC_STATUS = -1;
const GRPC_SLOTS = 32;
const GRPC_NONE_SLOT = 31;
const GRPC_OTHER_SLOT = 30;

/** The labels of one RequestStats; every value comes from config or the proxy's identity (bounded). */
export interface RequestLabels {
  readonly direction: Direction;
  /** Destination service (`name.namespace`), "unknown" when no route matched. */
  readonly service: string;
  readonly sourceService: string;
  readonly sourceWorkload: string;
  /**
   * Whether the source labels are known rather than claimed: outbound (the source is this
   * proxy) or inbound over mesh mTLS (service from the caller's SPIFFE ID). False: a plaintext
   * caller's own x-trellis-source header, which anyone can forge.
   */
  readonly sourceAuthenticated: boolean;
  /** The workload that served the request; "unknown" on outbound (the callee's proxy reports it). */
  readonly destinationWorkload: string;
  /** The route rule (`virtual host/rule`), "" when no route matched. */
  readonly route: string;
}

/** The mesh's Prometheus labels of a RequestStats besides its direction (snake_case, as exposed). */
export function meshPromLabels(l: RequestLabels): Record<string, string> {
  return {
    service: l.service,
    source_service: l.sourceService,
    source_workload: l.sourceWorkload,
    source_authenticated: l.sourceAuthenticated ? 'true' : 'false',
    destination_workload: l.destinationWorkload,
    route: l.route,
  };
}

/**
 * Counts, latency and bytes for one label set.
 * Invariant: `count` equals the sum of `bucketCounts` plus the observations above the last bucket.
 */
export class RequestStats {
  /** Non-cumulative counts per bucket of DURATION_BUCKETS; the +Inf bucket is `count`. */
  readonly bucketCounts = new Float64Array(DURATION_BUCKETS.length);
  sum = 0;
  count = 0;
  requestBytes = 0;
  responseBytes = 0;
  /** Requests by `status * 32 + grpc slot`: small integers, so Map updates allocate nothing. */
  readonly codes = new Map<number, number>();
  /** OpenTelemetry HTTP series of these labels: server (serverKey) -> (method, status, error type) cellKey -> cell. */
  readonly http = new Map<number, HttpCells>();
  readonly labels: RequestLabels;

  constructor(direction: Direction, service: string, rest: Partial<Omit<RequestLabels, 'direction' | 'service'>> = {}) {
    this.labels = {
      direction,
      service,
      sourceService: rest.sourceService ?? 'unknown',
      sourceWorkload: rest.sourceWorkload ?? 'unknown',
      sourceAuthenticated: rest.sourceAuthenticated ?? false,
      destinationWorkload: rest.destinationWorkload ?? 'unknown',
      route: rest.route ?? '',
    };
  }

  get direction(): Direction {
    return this.labels.direction;
  }

  get service(): string {
    return this.labels.service;
  }

  /**
   * Records one finished request. `grpcStatus` is NO_GRPC_STATUS for plain HTTP; `server`
   * (serverKey), `method` (methodIndex) and `error` (NO_ERROR, ERROR_IS_STATUS or errorSlot)
   * place it in the OpenTelemetry series.
   */
  record(status: number, grpcStatus: number, seconds: number, requestBytes = 0, responseBytes = 0, server = UNKNOWN_SERVER, method = OTHER_METHOD, error = NO_ERROR): void {
    let cells = this.http.get(server);
    if (cells === undefined) this.http.set(server, (cells = new Map<number, HttpCell>()));
    const cellId = cellKey(method, status, error);
    let cell = cells.get(cellId);
    if (cell === undefined) cells.set(cellId, (cell = new HttpCell()));
    cell.record(seconds, requestBytes, responseBytes);
    const slot = grpcStatus < 0 ? GRPC_NONE_SLOT : grpcStatus < GRPC_OTHER_SLOT ? grpcStatus : GRPC_OTHER_SLOT;
    const key = status * GRPC_SLOTS + slot;
    this.codes.set(key, (this.codes.get(key) ?? 0) + 1);
    this.count++;
    this.sum += seconds;
    this.requestBytes += requestBytes;
    this.responseBytes += responseBytes;
    const buckets = DURATION_BUCKETS;
    for (let i = 0; i < buckets.length; i++) {
      if (seconds <= buckets[i]!) {
        this.bucketCounts[i]!++;
        return;
      }
    }
  }

  /** Splits a `codes` key back into its labels. */
  static decodeKey(key: number): { code: string; grpcStatus: string | undefined } {
    const slot = key % GRPC_SLOTS;
    const status = (key - slot) / GRPC_SLOTS;
    return { code: String(status), grpcStatus: slot === GRPC_NONE_SLOT ? undefined : slot === GRPC_OTHER_SLOT ? 'other' : String(slot) };
  }
}
