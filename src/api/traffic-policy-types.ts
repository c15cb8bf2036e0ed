// Types of the TrafficPolicy kind: how callers treat one destination Service (load balancing,
// retries, timeouts, circuit breaking, outlier detection, fault injection, local rate limit).
import type { ObjectMeta } from './resource.js';

/** `RoundRobin`, `LeastRequest` (power of two choices), `Random`, or `RingHash` (affinity by hashOn). */
export type TrafficLoadBalancerType = 'RoundRobin' | 'LeastRequest' | 'Random' | 'RingHash';

/** What a ring hash hashes: exactly one of these. */
export type HashOn = { header: string } | { cookie: string } | { sourceIP: true };

export interface TrafficLoadBalancer {
  type: TrafficLoadBalancerType;
  /** Required for RingHash, refused otherwise. */
  hashOn?: HashOn;
}

/** Durations are Gateway API strings (`500ms`, `10s`). */
export interface TrafficTimeouts {
  /** To open a connection to an endpoint. */
  connect?: string;
  /** The whole request, retries included; `0s` means none. */
  request?: string;
  /** One attempt, until the response head arrives. */
  perTry?: string;
}

/** Failures a retry policy retries (Envoy retry_on names). */
export const RETRY_ON = ['connect-failure', 'reset', '5xx', 'gateway-error', 'retriable-status-codes'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/** gRPC status names a retry policy may list (Envoy's gRPC retry_on conditions). */
export const GRPC_RETRY_CODES = ['CANCELLED', 'DEADLINE_EXCEEDED', 'INTERNAL', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE'] as const;
export type GrpcRetryCode = (typeof GRPC_RETRY_CODES)[number];

export interface TrafficRetry {
  /** Retries after the first attempt (0..10). */
  attempts: number;
  on: RetryOn[];
  /** HTTP statuses retried (needs `retriable-status-codes` in `on`, added when codes are given). */
  codes?: number[];
  grpcCodes?: GrpcRetryCode[];
  /** Exponential backoff with full jitter between `base` and `max` (default 25ms and 10 × base). */
  backoff?: { base: string; max?: string };
  /** Also retry POST, PATCH and CONNECT (requests that may not be safe to repeat). Default false. */
  nonIdempotent: boolean;
  /** Retries in flight at most `percent` of the requests in flight to the destination (at least `minConcurrency`). */
  budget?: { percent: number; minConcurrency: number };
}

export interface TrafficCircuitBreaker {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
}

export interface TrafficOutlierDetection {
  /** Consecutive failures (5xx, connect failure, reset) that eject an endpoint. */
  consecutiveErrors?: number;
  /** How often failure rates are evaluated and ejections ended. */
  interval: string;
  /** An endpoint's n-th ejection lasts n × baseEjectionTime. */
  baseEjectionTime: string;
  /** At most this share (percent) of a destination's endpoints is ejected at once. */
  maxEjectionPercent: number;
  /** Eject an endpoint whose failure percentage over one interval is at least `threshold`. */
  failureRate?: { threshold: number; minimumRequests: number };
}

export interface TrafficFaultInjection {
  delay?: { fixedDelay: string; percent: number };
  /** Exactly one of httpStatus and grpcStatus. */
  abort?: { httpStatus?: number; grpcStatus?: number; percent: number };
  /** Only requests with all these headers (exact values) get faults. */
  headers?: { name: string; value: string }[];
}

/** A token bucket: `requests` tokens every `per`, at most `burst` (default `requests`) saved up. */
export interface TrafficRateLimit {
  requests: number;
  per: string;
  burst?: number;
}

export interface TrafficPolicySpec {
  targetRef: { group: ''; kind: 'Service'; name: string };
  loadBalancer?: TrafficLoadBalancer;
  timeouts?: TrafficTimeouts;
  retry?: TrafficRetry;
  circuitBreaker?: TrafficCircuitBreaker;
  outlierDetection?: TrafficOutlierDetection;
  faultInjection?: TrafficFaultInjection;
  rateLimit?: TrafficRateLimit;
}

export interface TrafficPolicy {
  apiVersion: 'trellis.dev/v1alpha1';
  kind: 'TrafficPolicy';
  metadata: ObjectMeta & { namespace: string };
  spec: TrafficPolicySpec;
}
