// The data plane's error catalog (STYLE 6): stable codes, the HTTP status each one answers
// with, and constructors that say what failed, the value, and what was expected. Errors are
// plain values (no stack capture) because they are produced on the hot path.

/** Stable codes; `x-trellis-error` carries the code of a proxy-generated answer. */
export type ProxyErrorCode =
  | 'NO_ROUTE'
  | 'NO_BACKEND'
  | 'NO_HEALTHY_ENDPOINT'
  | 'UPSTREAM_CONNECT_FAILED'
  | 'UPSTREAM_RESET'
  | 'UPSTREAM_PROTOCOL_ERROR'
  | 'UPSTREAM_PROTOCOL_MISMATCH'
  | 'REQUEST_TIMEOUT'
  | 'BAD_REQUEST'
  | 'REQUEST_HEAD_TIMEOUT'
  | 'REQUEST_HEADERS_TOO_LARGE'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'INTERNAL'
  | 'LISTENER_BIND_FAILED'
  | 'UPSTREAM_TIMEOUT'
  | 'CIRCUIT_BREAKER_OPEN'
  | 'RATE_LIMITED'
  | 'FAULT_INJECTED'
  | 'OUTBOUND_REFUSED'
  | 'ENDPOINT_GONE';

/** The status each code answers with (a listener bind failure never reaches a client). */
export const ERROR_STATUS: Readonly<Record<ProxyErrorCode, number>> = {
  NO_ROUTE: 404,
  NO_BACKEND: 503,
  NO_HEALTHY_ENDPOINT: 503,
  UPSTREAM_CONNECT_FAILED: 502,
  UPSTREAM_RESET: 502,
  UPSTREAM_PROTOCOL_ERROR: 502,
  UPSTREAM_PROTOCOL_MISMATCH: 502,
  REQUEST_TIMEOUT: 504,
  BAD_REQUEST: 400,
  REQUEST_HEAD_TIMEOUT: 408,
  REQUEST_HEADERS_TOO_LARGE: 431,
  FORBIDDEN: 403,
  UNAUTHENTICATED: 401,
  INTERNAL: 500,
  LISTENER_BIND_FAILED: 500,
  UPSTREAM_TIMEOUT: 504,
  CIRCUIT_BREAKER_OPEN: 503,
  RATE_LIMITED: 429,
  /** The configured abort status replaces this one. */
  FAULT_INJECTED: 503,
  OUTBOUND_REFUSED: 502,
  ENDPOINT_GONE: 503,
};

/** An expected failure on the data path; turned into a response only by `http/error-response.ts`. */
export interface ProxyError {
  readonly code: ProxyErrorCode;
  readonly status: number;
  /** What the client is told: never an internal address (an endpoint's IP and port, a socket path). */
  readonly message: string;
  /** What only the proxy's log and traces get: the endpoint, the raw cause. */
  readonly detail?: string;
  readonly cause?: unknown;
  /** The gRPC status a gRPC client gets, when it is not the one that `status` maps to. */
  readonly grpcStatus?: number;
  /**
   * The upstream surely did not process the request: a reused keep-alive connection closed
   * before any response byte (the server closed it as idle while the request was on its way),
   * and the request had no body, and the retry layer sends it again once on a fresh connection;
   * or (ENDPOINT_GONE) its endpoint went away before it got a connection, and the retry layer
   * sends it to another endpoint.
   */
  readonly unprocessed?: true;
  /** The `www-authenticate` challenge of a 401. */
  readonly challenge?: string;
}

function make(code: ProxyErrorCode, message: string, cause?: unknown, detail?: string): ProxyError {
  const e: { -readonly [K in keyof ProxyError]: ProxyError[K] } = { code, status: ERROR_STATUS[code], message };
  if (cause !== undefined) e.cause = cause;
  if (detail !== undefined) e.detail = detail;
  return e;
}

export const noRoute = (host: string, path: string): ProxyError => make('NO_ROUTE', `no route for host ${host} path ${path}`);

export const noBackend = (route: string): ProxyError => make('NO_BACKEND', `no backends for route ${route}: every backend weight is 0`);

export const noHealthyEndpoint = (cluster: string): ProxyError => make('NO_HEALTHY_ENDPOINT', `no healthy endpoint in cluster ${cluster}: it has no endpoints`);

// Upstream failures name the endpoint (an internal address) and the raw cause only in `detail`;
// the client gets the cause's error code (ECONNREFUSED), never its message (which may hold addresses).
export const upstreamConnectFailed = (endpoint: string, cause: unknown): ProxyError =>
  make('UPSTREAM_CONNECT_FAILED', `upstream connect failed: ${publicCause(cause)}`, cause, `endpoint ${endpoint}: ${describe(cause)}`);

export const upstreamConnectTimeout = (endpoint: string, timeoutMs: number): ProxyError =>
  make('UPSTREAM_CONNECT_FAILED', `upstream connect failed: no connection within ${timeoutMs} ms`, undefined, `endpoint ${endpoint}`);

export const upstreamReset = (endpoint: string, cause?: unknown): ProxyError =>
  make(
    'UPSTREAM_RESET',
    `upstream reset the request before a complete response${cause === undefined ? '' : `: ${publicCause(cause)}`}`,
    cause,
    `endpoint ${endpoint}${cause === undefined ? '' : `: ${describe(cause)}`}`,
  );

/** `what` comes from the proxy's own parser or node's header validation, never from an address. */
export const upstreamProtocolError = (endpoint: string, what: string): ProxyError =>
  make('UPSTREAM_PROTOCOL_ERROR', `upstream sent an invalid response: ${what}`, undefined, `endpoint ${endpoint}`);

/** A gRPC request for a cluster that speaks HTTP/1.1 to its endpoints (gRPC needs HTTP/2 end to end): UNIMPLEMENTED, as retrying cannot help. */
export const grpcNeedsHttp2 = (cluster: string): ProxyError => ({
  ...make(
    'UPSTREAM_PROTOCOL_MISMATCH',
    `gRPC needs HTTP/2 end to end, but cluster ${cluster} speaks HTTP/1.1 to its endpoints (its Service port declares appProtocol http); declare the port appProtocol grpc`,
  ),
  grpcStatus: 12,
});

export const requestTimeout = (route: string, timeoutMs: number): ProxyError => make('REQUEST_TIMEOUT', `route ${route} timed out: no complete response within ${timeoutMs} ms`);

export const upstreamTimeout = (endpoint: string, timeoutMs: number): ProxyError =>
  make('UPSTREAM_TIMEOUT', `upstream sent no response head within the per-try timeout of ${timeoutMs} ms`, undefined, `endpoint ${endpoint}`);

/**
 * The endpoint a request was waiting for a connection to left its cluster (EDS) or was ejected:
 * the request never went out, so the retry layer sends it to another endpoint at once
 * (`unprocessed`; without it, the forwarder marks it so when the request has no body).
 */
export const endpointGone = (endpoint: string, why: 'removed' | 'ejected', unprocessed = true): ProxyError => {
  const e = make(
    'ENDPOINT_GONE',
    `the endpoint chosen for the request was ${why === 'removed' ? 'removed from its cluster' : 'ejected by outlier detection'} while the request waited for a connection`,
    undefined,
    `endpoint ${endpoint}`,
  );
  // A connection still dialling may have taken part of a body: its forwarder decides.
  return unprocessed ? { ...e, unprocessed } : e;
};

/** Over a circuit breaker limit: `what` names the limit (maxRequests). */
export const circuitBreakerOpen = (cluster: string, what: string, limit: number): ProxyError =>
  make('CIRCUIT_BREAKER_OPEN', `cluster ${cluster} is at its circuit breaker limit ${what} = ${limit}; failing fast instead of queueing`);

/** Every connection the cluster may open is busy and its queue of requests waiting for one is full. */
export const pendingOverflow = (cluster: string, maxConnections: number, maxPending: number): ProxyError =>
  make(
    'CIRCUIT_BREAKER_OPEN',
    `cluster ${cluster} is at its circuit breaker limits: its maxConnections = ${maxConnections} connections are busy and maxPendingRequests = ${maxPending} requests already wait for one; failing fast`,
  );

export const rateLimited = (route: string, tokens: number, perMs: number): ProxyError =>
  make('RATE_LIMITED', `route ${route} is over its local rate limit (${tokens} requests per ${perMs} ms)`);

/** An abort injected by the route's fault configuration. */
export const faultAbort = (route: string, httpStatus: number, grpcStatus: number | undefined): ProxyError => {
  const message = `fault injected by route ${route}: abort with ${grpcStatus === undefined ? `HTTP ${httpStatus}` : `gRPC status ${grpcStatus}`}`;
  return grpcStatus === undefined ? { code: 'FAULT_INJECTED', status: httpStatus, message } : { code: 'FAULT_INJECTED', status: httpStatus, message, grpcStatus };
};
export const outboundRefused = (destination: string): ProxyError =>
  make('OUTBOUND_REFUSED', `outbound connection to ${destination} refused: it is not a mesh Service and MeshConfig.spec.outboundPolicy is Refuse`);

export const badRequest = (what: string): ProxyError => make('BAD_REQUEST', `bad request: ${what}`);

export const requestHeadTimeout = (timeoutMs: number): ProxyError => make('REQUEST_HEAD_TIMEOUT', `request timeout: no complete request head within ${timeoutMs} ms`);

export const tooManyHeaders = (count: number, max: number): ProxyError =>
  make('REQUEST_HEADERS_TOO_LARGE', `request header fields too large: ${count} header fields, at most ${max} allowed`);

export const headersTooLarge = (maxBytes: number): ProxyError => make('REQUEST_HEADERS_TOO_LARGE', `request header fields too large: the request head is over ${maxBytes} bytes`);

/** An authorization policy refused the request; `reason` names the policy (never a secret). */
export const forbidden = (reason: string): ProxyError => make('FORBIDDEN', `forbidden: ${reason}`);

/** The request's JWT failed verification (`reason` names why, never key material), or a required one is missing. */
export const unauthenticated = (reason: string, tokenPresent: boolean): ProxyError => ({
  ...make('UNAUTHENTICATED', `unauthenticated: ${reason}`),
  challenge: tokenPresent ? 'Bearer error="invalid_token"' : 'Bearer',
});

/** A bug in the proxy surfaced while serving a request (a layer threw). */
export const internalError = (what: unknown): ProxyError => make('INTERNAL', 'internal proxy error', what, describe(what));

export const listenerBindFailed = (listener: string, address: string, port: number, cause: unknown): ProxyError =>
  make('LISTENER_BIND_FAILED', `listener ${listener} could not bind ${address}:${port}: ${describe(cause)}`, cause);

/**
 * The part of a cause a client may see: the proxy's own text (a string, or the message of an
 * ERR_TRELLIS_* error, which never holds an address), else the innermost error code
 * (ECONNREFUSED under node's ERR_HTTP2_STREAM_CANCEL); never another error's message.
 */
function publicCause(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  let code = 'error';
  for (let c = cause, depth = 0; c !== null && typeof c === 'object' && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
    const { code: own, message } = c as { code?: unknown; message?: unknown };
    if (typeof own !== 'string') continue;
    code = own.startsWith('ERR_TRELLIS_') && typeof message === 'string' ? `${own}: ${message}` : own;
  }
  return code;
}

function describe(cause: unknown): string {
  if (cause && typeof cause === 'object') {
    const c = cause as { code?: unknown; message?: unknown };
    // System errors repeat code and address in the message ("connect ECONNREFUSED 1.2.3.4:5"); the code is enough.
    if (typeof c.code === 'string') return typeof c.message === 'string' && !c.message.includes(c.code) ? `${c.code}: ${c.message}` : c.code;
    if (typeof c.message === 'string') return c.message;
  }
  return String(cause);
}
