// Bounds on what one downstream client may hold on a listener (the hostile-HTTP defences):
// time to send a request head or finish a TLS handshake, idle keep-alive connections and
// HTTP/2 sessions, connections per listener, headers per request, and HTTP/2 streams reset
// by the client. Every refusal is counted by listener and reason
// (trellis_downstream_rejected_total); docs/operations.md lists the values.

/** What the listeners enforce; DEFAULT_DOWNSTREAM_LIMITS unless a DataPlane is given others. */
export interface DownstreamLimits {
  /**
   * From a connection's start (or its previous response) to a complete request head: after
   * it, HTTP/1 gets 408 and the connection closes; a connection that sent nothing closes.
   * nginx's client_header_timeout and HAProxy's `timeout http-request` default to 10 s.
   */
  readonly requestHeadTimeoutMs: number;
  /** A TLS handshake (mTLS listeners), from the first byte to a verified peer. */
  readonly handshakeTimeoutMs: number;
  /** An HTTP/1 connection idle between requests. */
  readonly keepAliveTimeoutMs: number;
  /**
   * No byte either way on an HTTP/1 connection with a request in flight, or no frame either way
   * on an HTTP/2 session (then every stream on it is stalled too): the connection closes.
   * Envoy's stream_idle_timeout defaults to 5 minutes.
   */
  readonly idleTimeoutMs: number;
  /** Open connections per listener; one more is closed at once (Envoy's connection_limit filter). */
  readonly maxConnectionsPerListener: number;
  /** Header fields per request; one more is 431 (Envoy's max_headers_count defaults to 100). */
  readonly maxRequestHeaders: number;
  /** Bytes of an HTTP/1 request head (request line and fields); more is 431 (node:http's and nginx's default is 16 KiB). */
  readonly maxRequestHeadBytes: number;
  /**
   * An HTTP/2 connection whose client reset at least this many streams, and more than half of
   * the streams it opened, is closed with GOAWAY ENHANCE_YOUR_CALM (CVE-2023-44487, "rapid
   * reset"; Envoy's premature-reset rule works the same way).
   */
  readonly maxH2ClientResets: number;
}

export const DEFAULT_DOWNSTREAM_LIMITS: DownstreamLimits = {
  requestHeadTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  keepAliveTimeoutMs: 60_000,
  idleTimeoutMs: 300_000,
  maxConnectionsPerListener: 4096,
  maxRequestHeaders: 100,
  maxRequestHeadBytes: 16 * 1024,
  maxH2ClientResets: 100,
};

/**
 * Header fields an inbound listener takes beyond maxRequestHeaders: what the calling sidecar
 * adds on its way (trace context, source identity, a route's header additions), so a request
 * its outbound listener took is not refused one hop later.
 */
export const INBOUND_HEADER_HEADROOM = 20;

/** The most header fields a request may carry on a listener of `direction`. */
export function maxRequestHeaders(limits: DownstreamLimits, direction: 'inbound' | 'outbound'): number {
  return direction === 'inbound' ? limits.maxRequestHeaders + INBOUND_HEADER_HEADROOM : limits.maxRequestHeaders;
}

/** Why a listener closed or refused a downstream connection or request. */
export type RejectReason = 'connection_limit' | 'head_timeout' | 'idle_timeout' | 'malformed_request' | 'too_many_headers' | 'duplicate_host' | 'h2_reset_flood';

/** A listener's limits and where it counts what it refused. */
export interface DownstreamGuard {
  readonly limits: DownstreamLimits;
  rejected(reason: RejectReason): void;
}

/** A guard with the default limits that counts nothing (tests, listeners built by hand). */
export const UNCOUNTED_GUARD: DownstreamGuard = { limits: DEFAULT_DOWNSTREAM_LIMITS, rejected() {} };
