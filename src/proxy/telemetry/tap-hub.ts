// Live tap: subscribers (admin /tap streams) with filters; the tap layer hands every finished
// request's metadata to the hub only while someone listens. Metadata only, never bodies.

/** What one tapped request looks like on the wire (one server-sent event). */
export interface TapEvent {
  /** RFC 3339 start time. */
  time: string;
  direction: 'inbound' | 'outbound';
  method: string;
  authority: string;
  path: string;
  status: number;
  grpcStatus?: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  sourceService: string;
  sourceWorkload: string;
  service: string;
  route: string;
  endpoint?: string;
  traceId?: string;
  /** The proxy's own error code when it answered itself. */
  proxyError?: string;
}

/** Which requests a subscriber wants; every given field must match. */
export interface TapFilter {
  /** Destination or source service, `name` or `name.namespace`. */
  service?: string;
  /** Path prefix. */
  path?: string;
  method?: string;
  /** Exact status, or a class like `5xx`. */
  status?: string;
}

/** Parses a filter from query parameters; unknown parameters are refused by name. */
export function parseTapFilter(params: URLSearchParams): { ok: true; value: TapFilter } | { ok: false; error: string } {
  const f: TapFilter = {};
  for (const [k, v] of params) {
    if (k === 'service') f.service = v;
    else if (k === 'path') f.path = v;
    else if (k === 'method') f.method = v.toUpperCase();
    else if (k === 'status') {
      if (!/^[1-5](\d\d|xx)$/.test(v)) return { ok: false, error: `status=${v} is not valid: expected a status like 503 or a class like 5xx` };
      f.status = v;
    } else return { ok: false, error: `unknown tap filter ${k}; known: service, path, method, status` };
  }
  return { ok: true, value: f };
}

const serviceMatches = (want: string, have: string): boolean => have === want || have.startsWith(want + '.');

/** True if `e` passes `f`. */
export function tapMatches(f: TapFilter, e: TapEvent): boolean {
  if (f.service !== undefined && !serviceMatches(f.service, e.service) && !serviceMatches(f.service, e.sourceService)) return false;
  if (f.path !== undefined && !e.path.startsWith(f.path)) return false;
  if (f.method !== undefined && e.method !== f.method) return false;
  if (f.status !== undefined) {
    const s = String(e.status);
    if (f.status.endsWith('xx') ? s[0] !== f.status[0] : s !== f.status) return false;
  }
  return true;
}

/** `send` returns false when it dropped the event (its subscriber is not keeping up). */
type Subscriber = { filter: TapFilter; send: (e: TapEvent) => boolean };

export class TapHub {
  private readonly subscribers = new Set<Subscriber>();
  sent = 0;
  /** Events dropped for subscribers that did not keep up. */
  dropped = 0;

  /** True while someone listens (the layer checks this before building an event). */
  get active(): boolean {
    return this.subscribers.size > 0;
  }

  /** Adds a subscriber; the returned function removes it. */
  subscribe(filter: TapFilter, send: (e: TapEvent) => boolean): () => void {
    const s = { filter, send };
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  publish(e: TapEvent): void {
    for (const s of this.subscribers) {
      if (!tapMatches(s.filter, e)) continue;
      if (s.send(e)) this.sent++;
      else this.dropped++;
    }
  }
}
