// Resilience events per destination service: retries, timeouts, and what the proxy refused on
// purpose (retries over the budget or maxRetries, circuit breaker rejections, ejections and the
// ejections maxEjectionPercent held back). Plain numbers the layers bump (each cluster's runtime holds its service's
// accumulator, bound once per config, so an event costs one property increment and no label
// hash), turned into trellis_*_total series only when /metrics is scraped.
import type { Direction } from '../config/runtime-config.js';
import type { Registry } from './prom-client-core.js';
import { scrapeCounter } from './scrape-counter.js';

/** Why the retry layer tried again (Envoy's retry_on names where they exist). */
export type RetryReason = 'connect-failure' | 'reset' | 'per-try-timeout' | '5xx' | 'retriable-status-codes' | 'grpc-status' | 'reused-connection';
/** Which timeout fired: the route's overall timeout, or the retry policy's per-try timeout. */
export type TimeoutKind = 'request' | 'per_try';
/** The circuit breaker limit a request was refused at. */
export type BreakerLimit = 'max_requests' | 'max_pending_requests';
/** The limit a retry was refused at: the retry budget, or the maxRetries circuit breaker (when there is no budget). */
export type RetryRefusal = 'retry_budget' | 'max_retries';
/** Why a request waiting for a connection was sent to another endpoint: its own left the cluster (EDS, or unhealthy) or was ejected. */
export type RerouteReason = 'endpoint_removed' | 'endpoint_ejected';
/** What made outlier detection eject an endpoint. */
export type EjectionReason = 'consecutive_errors' | 'failure_percent';
/** What became of a request mirror's copy (counted against the mirror's service). */
export type MirrorOutcome = 'sent' | 'failed' | 'dropped_no_endpoint' | 'dropped_over_limit' | 'dropped_body_too_large' | 'dropped_body_incomplete';

/** The counts of one destination service (`service` label: the cluster's, as in trellis_tcp_connections_total). */
export class ClusterEvents {
  readonly retries: Record<RetryReason, number> = {
    'connect-failure': 0,
    reset: 0,
    'per-try-timeout': 0,
    '5xx': 0,
    'retriable-status-codes': 0,
    'grpc-status': 0,
    'reused-connection': 0,
  };
  readonly timeouts: Record<Direction, Record<TimeoutKind, number>> = { inbound: { request: 0, per_try: 0 }, outbound: { request: 0, per_try: 0 } };
  readonly breakerRejections: Record<BreakerLimit, number> = { max_requests: 0, max_pending_requests: 0 };
  readonly ejections: Record<EjectionReason, number> = { consecutive_errors: 0, failure_percent: 0 };
  readonly mirrors: Record<MirrorOutcome, number> = {
    sent: 0,
    failed: 0,
    dropped_no_endpoint: 0,
    dropped_over_limit: 0,
    dropped_body_too_large: 0,
    dropped_body_incomplete: 0,
  };
  readonly retriesRefused: Record<RetryRefusal, number> = { retry_budget: 0, max_retries: 0 };
  readonly reroutes: Record<RerouteReason, number> = { endpoint_removed: 0, endpoint_ejected: 0 };
  /** Ejections outlier detection decided on but did not make: maxEjectionPercent was reached (Envoy's ejections_overflow). */
  readonly ejectionsOverflow: Record<EjectionReason, number> = { consecutive_errors: 0, failure_percent: 0 };
  constructor(readonly service: string) {}
}

/** Registers the counter families, read from `all()` at scrape time. */
export function registerClusterEventMetrics(registry: Registry, all: () => Iterable<ClusterEvents>): void {
  scrapeCounter(
    registry,
    'trellis_retries_total',
    'Retries started by the retry layer, by destination service and reason (connect-failure, reset, per-try-timeout, 5xx, retriable-status-codes, grpc-status; reused-connection: a request sent again because the keep-alive connection it went out on was closed by the server before any response byte).',
    ['service', 'reason'],
    function* () {
      for (const e of all()) for (const [reason, n] of Object.entries(e.retries)) yield [{ service: e.service, reason }, n];
    },
  );
  scrapeCounter(
    registry,
    'trellis_timeouts_total',
    "Timeouts that fired, by direction, destination service and kind (request: the route timeout ended the request; per_try: an attempt ran past the retry policy's per-try timeout).",
    ['direction', 'service', 'kind'],
    function* () {
      for (const e of all()) {
        for (const [direction, kinds] of Object.entries(e.timeouts)) for (const [kind, n] of Object.entries(kinds)) yield [{ direction, service: e.service, kind }, n];
      }
    },
  );
  scrapeCounter(
    registry,
    'trellis_circuit_breaker_rejections_total',
    'Requests refused with 503 CIRCUIT_BREAKER_OPEN, by destination service and the limit reached (max_requests: requests in flight; max_pending_requests: requests waiting for an HTTP/1.1 connection at maxConnections).',
    ['service', 'limit'],
    function* () {
      for (const e of all()) for (const [limit, n] of Object.entries(e.breakerRejections)) yield [{ service: e.service, limit }, n];
    },
  );
  scrapeCounter(
    registry,
    'trellis_outlier_ejections_total',
    'Endpoints ejected by outlier detection, by destination service and reason (consecutive_errors, failure_percent).',
    ['service', 'reason'],
    function* () {
      for (const e of all()) for (const [reason, n] of Object.entries(e.ejections)) yield [{ service: e.service, reason }, n];
    },
  );
  scrapeCounter(
    registry,
    'trellis_mirror_requests_total',
    "Request mirror copies, by the mirror's service and outcome (sent: went out over the endpoint's pooled connections; failed: a sent copy that got no complete answer (connect failure, reset, 10 s timeout); dropped_no_endpoint: the mirror cluster had none; dropped_over_limit: copies or copied bytes in flight at the sidecar's bound, or the mirror cluster at maxConnections; dropped_body_too_large: a body over 64 KiB; dropped_body_incomplete: the request ended before its body was read whole).",
    ['service', 'outcome'],
    function* () {
      for (const e of all()) for (const [outcome, n] of Object.entries(e.mirrors)) yield [{ service: e.service, outcome }, n];
    },
  );
  scrapeCounter(
    registry,
    'trellis_retries_refused_total',
    'Retries the policy asked for and the proxy refused, by destination service and reason (retry_budget: retries in flight at the budget; max_retries: at the circuit breaker maxRetries, when there is no budget). The attempt that was not retried is what the client got.',
    ['service', 'reason'],
    function* () {
      for (const e of all()) for (const [reason, n] of Object.entries(e.retriesRefused)) yield [{ service: e.service, reason }, n];
    },
  );
  scrapeCounter(
    registry,
    'trellis_outlier_ejections_overflow_total',
    'Endpoints outlier detection would have ejected but left in because maxEjectionPercent of the endpoints were already out, by destination service and reason (consecutive_errors, failure_percent).',
    ['service', 'reason'],
    function* () {
      for (const e of all()) for (const [reason, n] of Object.entries(e.ejectionsOverflow)) yield [{ service: e.service, reason }, n];
    },
  );
  scrapeCounter(
    registry,
    'trellis_requests_rerouted_total',
    'Requests waiting for a connection (in the pending queue) that were sent to another endpoint instead of failing, by destination service and reason (endpoint_removed: their endpoint left the cluster or turned unhealthy; endpoint_ejected: outlier detection ejected it).',
    ['service', 'reason'],
    function* () {
      for (const e of all()) for (const [reason, n] of Object.entries(e.reroutes)) yield [{ service: e.service, reason }, n];
    },
  );
}
