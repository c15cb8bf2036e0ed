// The typed context one HTTP request carries through the layers: where it came in, what it
// asked for, the route, cluster and endpoint chosen for it, timing, and its outcome. Created
// per request by the listener from the snapshot current at that moment, so a config swap
// never changes a request already under way.
import type { Direction, HttpListenerConfig } from '../config/runtime-config.js';
import type { ClusterState, HttpListenerScope } from '../data-plane-snapshot.js';
import type { ProxyError } from '../errors.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import type { CompiledRoute, RouteInput } from '../routing/router.js';
import type { Downstream } from './downstream.js';
import { respondWithError } from './error-response.js';
import type { BodyReplay } from './body-replay.js';
import type { UpstreamEdit } from './upstream-headers.js';
import type { VerifiedJwt } from '../jwt/jwt-verifier.js';

/** The forwarding of a request in progress, as the context sees it. */
export interface UpstreamCall {
  /** Stops the upstream exchange (downstream went away, or the proxy answers instead). Idempotent. */
  cancel(): void;
}

/** The span a traced request is in on this hop. */
export interface ActiveSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
  readonly traceState: string | undefined;
}

/** A request the route layer matched (set only there). */
export interface RoutedRequest extends RequestContext {
  readonly route: CompiledRoute<ClusterState>;
}

/** A request the cluster-pick layer gave its backend (set only there). */
export interface BackendRequest extends RoutedRequest {
  readonly cluster: ClusterState;
}

/** A request the balance layer gave this attempt's endpoint (set only there, on every attempt). */
export interface EndpointRequest extends BackendRequest {
  readonly endpoint: UpstreamEndpoint;
}

/** Runs once when the request is over; defined once at module level by the layer that registers it. */
export type DoneHook = (ctx: RequestContext) => void;

export class RequestContext implements RouteInput {
  readonly listener: HttpListenerConfig;
  readonly direction: Direction;
  /** When the request arrived (performance.now() milliseconds). */
  readonly startTime: number;

  /** Origin-form request target; the route layer may rewrite it (absolute-form on proxy listeners). */
  path: string;
  /** Host or :authority, as the client sent it; the route layer may replace it (absolute-form). */
  authority: string;
  /** Set when the authority came from an absolute-form target and must replace the Host header. */
  authorityOverride = false;

  /** Set by the route layer only (RoutedRequest). */
  route: CompiledRoute<ClusterState> | undefined = undefined;
  /** Set by the cluster-pick layer only (BackendRequest). */
  cluster: ClusterState | undefined = undefined;
  /** Set by the balance layer only, for each attempt (EndpointRequest). */
  endpoint: UpstreamEndpoint | undefined = undefined;
  /** Endpoints of earlier attempts, which a later one avoids (set by the balance layer only, from the second attempt). */
  triedEndpoints: UpstreamEndpoint[] | undefined = undefined;
  upstream: UpstreamCall | undefined = undefined;
  /** The route timeout's timer (set by the timeout layer only). */
  routeTimer: NodeJS.Timeout | undefined = undefined;
  /** The injected delay's timer (set by the fault layer only). */
  faultDelay: NodeJS.Timeout | undefined = undefined;

  /** Response status sent downstream (0 until then). */
  status = 0;
  /** gRPC status of the response, or NO_GRPC_STATUS. */
  grpcStatus = NO_GRPC_STATUS;
  /** The failure the proxy answered with, if it did. */
  error: ProxyError | undefined = undefined;
  /** The caller's SPIFFE ID when the request came over mesh mTLS (inbound), else undefined. */
  peerIdentity: string | undefined = undefined;

  /** Who sent the request (set by the source layer): `name.namespace` and workload. */
  sourceService = 'unknown';
  sourceWorkload = 'unknown';
  /** False while the source is only the caller's own claim (plaintext x-trellis-source, or none). */
  sourceAuthenticated = false;
  /** Headers the upstream request gets (flat `[name, value, ...]`), replacing the REWRITTEN_HEADERS of the downstream. */
  upstreamHeaders: string[] | undefined = undefined;
  /** Downstream headers removed and headers added upstream (set by the JWT layer only). */
  upstreamEdit: UpstreamEdit | undefined = undefined;
  /** The end user's verified JWT (set by the JWT layer only). */
  jwt: VerifiedJwt | undefined = undefined;
  /** The span of this hop, when the request is traced (set by the trace layer). */
  trace: ActiveSpan | undefined = undefined;
  /** Body bytes received from downstream and sent to it (counted by the forwarders and error-response). */
  requestBytes = 0;
  responseBytes = 0;

  /** Per-request state of the retry layer (opaque to everyone else). */
  retry: object | undefined = undefined;
  /** The handler below the retry layer, while the current attempt may be sent again once if it was never processed (set by the retry layer only). */
  resend: ((ctx: BackendRequest) => void) | undefined = undefined;
  /** This attempt must not reuse a pooled connection (set by the retry layer only, read by the forwarder). */
  freshConnection = false;
  /** The request body kept for retries (set by the retry layer when the request has one). */
  replay: BodyReplay | undefined = undefined;

  /** performance.now() when the last attempt's upstream response head arrived (its first byte, as the proxy sees it); -1: none did. */
  upstreamHeadTime = -1;

  private finished = false;
  private hooks: DoneHook[] | undefined = undefined;

  constructor(
    readonly scope: HttpListenerScope,
    readonly downstream: Downstream,
    readonly method: string,
    path: string,
    authority: string,
  ) {
    this.listener = scope.listener;
    this.direction = scope.listener.direction;
    this.path = path;
    this.authority = authority;
    this.startTime = performance.now();
  }

  header(lowerName: string): string | undefined {
    return this.downstream.header(lowerName);
  }

  /** True once the downstream exchange is over (complete or broken off). */
  get done(): boolean {
    return this.finished;
  }

  /** Runs `hook` once when the request is over (hooks run in registration order); the hook sees the stage it was registered at. */
  onDone<C extends RequestContext>(this: C, hook: (ctx: C) => void): void {
    ((this as RequestContext).hooks ??= []).push(hook as DoneHook);
  }

  /**
   * Ends the request with the proxy's own answer for `error` (or breaks off a response that
   * already started). Stops the upstream exchange if one is running. The first failure wins.
   */
  fail(error: ProxyError): void {
    if (this.finished || this.error !== undefined) return;
    this.error = error;
    const up = this.upstream;
    if (up !== undefined) {
      this.upstream = undefined;
      up.cancel();
    }
    respondWithError(this, error);
  }

  /**
   * What forwarders call when an upstream attempt failed (connect failure, reset, protocol
   * error): it goes up the stack (a retry layer may take it over), else the request fails with `error`.
   */
  attemptFailed(error: ProxyError): void {
    if (this.finished || this.error !== undefined) return;
    if (this.scope.stack.attemptFailed(this, error)) return;
    this.fail(error);
  }

  /**
   * What forwarders call with an upstream response head before relaying it (`grpcStatus` from
   * a trailers-only answer, else NO_GRPC_STATUS): it goes up the stack. True: drop this
   * attempt, a layer (a retry) took over.
   */
  upstreamHead(status: number, grpcStatus: number): boolean {
    this.upstreamHeadTime = performance.now();
    return this.scope.stack.responseHead(this, status, grpcStatus);
  }

  /** Called by the listener when the downstream response is finished or the client went away. */
  downstreamClosed(): void {
    if (this.finished) return;
    this.finished = true;
    const up = this.upstream;
    if (up !== undefined) {
      this.upstream = undefined;
      up.cancel();
    }
    const hooks = this.hooks;
    if (hooks !== undefined) for (let i = 0; i < hooks.length; i++) hooks[i]!(this);
  }
}
