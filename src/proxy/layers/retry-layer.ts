// Layer: retries and the per-try timeout of the route's RetryConfig. An attempt that fails
// (connect failure, reset, per-try timeout, or a response the policy lists) is tried again
// on a freshly picked endpoint after an exponential backoff with full jitter, until the
// retries are used up. A request body is kept while it streams (up to MAX_REPLAY_BYTES) and
// sent again by a retry. Never retried: a body larger than that or not complete yet,
// a method the policy does not allow (except on connect failure: that request never left),
// and a retry over the cluster's retry budget or maxRetries circuit breaker.
// Whatever the route's policy, an attempt that failed `unprocessed` (a reused keep-alive
// connection the server closed before any response byte, the request without a body) is sent
// again at once on a fresh connection, once per attempt, outside the budget: the request never
// reached the application; so is one whose endpoint left the cluster or was ejected while it
// waited for a connection, to another endpoint. Each retry started is counted by reason (trellis_retries_total),
// each one the budget or maxRetries refused by limit (trellis_retries_refused_total), each
// per-try timeout as a timeout of kind per_try.
import { upstreamTimeout, type ProxyError } from '../errors.js';
import { DEFAULT_LIMITS, type RetryConfig } from '../config/resilience-config.js';
import type { Handler, HttpLayer } from '../http/layer.js';
import type { BackendRequest } from '../http/request-context.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import { BodyReplay } from '../http/body-replay.js';
import type { RetryReason } from '../metrics/cluster-events.js';

type Failure = 'connect' | 'reset';

class RetryState {
  /** Retries started so far. */
  retries = 0;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Holds one of the cluster's retry slots (from the first retry until the request is over). */
  holdsSlot = false;
  constructor(
    readonly policy: RetryConfig,
    readonly next: Handler<BackendRequest>,
  ) {}
}

const stateOf = (ctx: BackendRequest): RetryState => ctx.retry as RetryState;

function clearTimer(st: RetryState): void {
  if (st.timer !== undefined) clearTimeout(st.timer);
  st.timer = undefined;
}

function startAttempt(ctx: BackendRequest, st: RetryState, fresh = false): void {
  if (st.policy.perTryTimeoutMs > 0) st.timer = setTimeout(onPerTryTimeout, st.policy.perTryTimeoutMs, ctx);
  ctx.resend = fresh ? undefined : st.next;
  ctx.freshConnection = fresh;
  st.next(ctx);
}

/**
 * The attempt never reached the application, so it goes again now: the keep-alive race, on a
 * fresh connection (once per attempt); an endpoint gone while the request waited for a
 * connection, to another endpoint (the balance layer avoids the one tried).
 */
function resendUnprocessed(ctx: BackendRequest, error: ProxyError): boolean {
  const again = ctx.resend;
  if (again === undefined || ctx.downstream.headersSent) return false;
  const fresh = error.code !== 'ENDPOINT_GONE';
  // Counted where it happened: the race here, a re-route by the pending queue (trellis_requests_rerouted_total).
  if (fresh) ctx.cluster.runtime.events.retries['reused-connection']++;
  const st = ctx.retry as RetryState | undefined;
  if (st !== undefined) {
    clearTimer(st);
    startAttempt(ctx, st, fresh);
    return true;
  }
  ctx.resend = fresh ? undefined : again;
  ctx.freshConnection = fresh;
  again(ctx);
  return true;
}

function onPerTryTimeout(ctx: BackendRequest): void {
  const st = stateOf(ctx);
  st.timer = undefined;
  if (ctx.done || ctx.error !== undefined) return;
  const up = ctx.upstream;
  if (up !== undefined) {
    ctx.upstream = undefined;
    up.cancel();
  }
  ctx.cluster.runtime.events.timeouts[ctx.direction].per_try++;
  const error = upstreamTimeout(ctx.endpoint?.key ?? 'unknown', st.policy.perTryTimeoutMs);
  // On its way up the stack, the failure is recorded against the endpoint (balance layer) and may be retried here.
  ctx.attemptFailed(error);
}

function onAttemptFailed(ctx: BackendRequest, error: ProxyError): boolean {
  const st = stateOf(ctx);
  clearTimer(st);
  // An endpoint gone before the connection was up: the request never left, as with a connect failure.
  const kind: Failure = error.code === 'UPSTREAM_CONNECT_FAILED' || error.code === 'ENDPOINT_GONE' ? 'connect' : 'reset';
  const on = st.policy.on;
  const listed = kind === 'connect' ? on.connectFailure || on.reset || on.fiveXx || on.gatewayError : on.reset || on.fiveXx || on.gatewayError;
  if (!listed) return false;
  const reason: RetryReason = kind === 'connect' ? 'connect-failure' : error.code === 'UPSTREAM_TIMEOUT' ? 'per-try-timeout' : 'reset';
  return tryRetry(ctx, st, kind === 'connect', reason);
}

function onResponseHead(ctx: BackendRequest, status: number, grpcStatus: number): boolean {
  const st = stateOf(ctx);
  clearTimer(st);
  const p = st.policy;
  const on = p.on;
  const listed =
    (on.fiveXx && status >= 500) ||
    (on.gatewayError && status >= 502 && status <= 504) ||
    (on.retriableStatus && p.statusCodes.includes(status)) ||
    (grpcStatus !== NO_GRPC_STATUS && on.grpcStatuses.includes(grpcStatus));
  if (!listed) return false;
  // Named for the answer, not the policy condition: any 5xx is "5xx".
  const reason: RetryReason = status >= 500 ? '5xx' : grpcStatus !== NO_GRPC_STATUS && on.grpcStatuses.includes(grpcStatus) ? 'grpc-status' : 'retriable-status-codes';
  return tryRetry(ctx, st, false, reason);
}

/** Schedules a retry if the policy, the request and the cluster's budget allow one. */
function tryRetry(ctx: BackendRequest, st: RetryState, neverSent: boolean, reason: RetryReason): boolean {
  const p = st.policy;
  if (st.retries >= p.numRetries) return false;
  // A body can be sent again only if it was kept whole.
  if (ctx.replay !== undefined && !ctx.replay.replayable) return false;
  if (!neverSent && p.methods !== undefined && !p.methods.test(ctx.method)) return false;
  if (!st.holdsSlot) {
    const cluster = ctx.cluster;
    const rt = cluster.runtime;
    const limits = cluster.config.limits ?? DEFAULT_LIMITS;
    const budget = limits.retryBudget;
    const allowed = budget !== undefined ? Math.max(budget.minConcurrency, (budget.percent / 100) * rt.activeRequests) : limits.maxRetries;
    if (rt.activeRetries + 1 > allowed) {
      rt.events.retriesRefused[budget !== undefined ? 'retry_budget' : 'max_retries']++;
      return false;
    }
    rt.activeRetries++;
    st.holdsSlot = true;
  }
  st.retries++;
  ctx.cluster.runtime.events.retries[reason]++;
  const ceiling = Math.min(p.backoffMaxMs, p.backoffBaseMs * 2 ** (st.retries - 1));
  st.timer = setTimeout(startRetry, Math.floor(Math.random() * ceiling), ctx);
  return true;
}

function startRetry(ctx: BackendRequest): void {
  const st = stateOf(ctx);
  st.timer = undefined;
  if (ctx.done || ctx.error !== undefined) return;
  startAttempt(ctx, st);
}

function release(ctx: BackendRequest): void {
  const st = stateOf(ctx);
  clearTimer(st);
  if (st.holdsSlot) {
    st.holdsSlot = false;
    ctx.cluster.runtime.activeRetries--;
  }
}

export const retryLayer: HttpLayer<BackendRequest> = {
  name: 'retry',
  request(ctx, next) {
    const policy = ctx.route.rule.retry;
    if (policy === undefined) {
      ctx.resend = next;
      next(ctx);
      return;
    }
    const st = new RetryState(policy, next);
    ctx.retry = st;
    if (ctx.downstream.hasBody) ctx.replay ??= new BodyReplay(); // the mirror layer's, when it keeps the body too
    ctx.onDone(release);
    startAttempt(ctx, st);
  },
  // Only requests under a retry policy, and only while nothing went downstream, are retried
  // (an unprocessed attempt under any policy).
  onAttemptFailed(ctx, error) {
    if (error.unprocessed === true && resendUnprocessed(ctx, error)) return true;
    return ctx.retry !== undefined && !ctx.downstream.headersSent && onAttemptFailed(ctx, error);
  },
  onResponseHead(ctx, status, grpcStatus) {
    return ctx.retry !== undefined && !ctx.downstream.headersSent && onResponseHead(ctx, status, grpcStatus);
  },
};
