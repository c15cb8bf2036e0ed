// The resilience parts of the proxy's RuntimeConfig, decoded from Envoy's RetryPolicy, hash
// policy, fault and local_ratelimit filter configs, circuit breakers and outlier detection.
// Immutable like the rest of the config.
import type { SafeRegex } from './safe-regex.js';

/** Which failed attempts a route retries (Envoy retry_on conditions). */
export interface RetryConditions {
  readonly connectFailure: boolean;
  /** Reset, or no response at all (per-try timeout included). */
  readonly reset: boolean;
  /** Any 5xx response, connect failures and resets. */
  readonly fiveXx: boolean;
  /** 502, 503, 504, connect failures and resets. */
  readonly gatewayError: boolean;
  /** Responses with a status in RetryConfig.statusCodes. */
  readonly retriableStatus: boolean;
  /** gRPC statuses (from a trailers-only response) that are retried. */
  readonly grpcStatuses: readonly number[];
}

export interface RetryConfig {
  /** Retries after the first attempt. */
  readonly numRetries: number;
  /** One attempt, until its response head (0 = none). */
  readonly perTryTimeoutMs: number;
  readonly on: RetryConditions;
  readonly statusCodes: readonly number[];
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Only requests whose method matches are retried (undefined: every method). */
  readonly methods: SafeRegex | undefined;
}

/** Ring-hash key: a header, a cookie, or the downstream source address. */
export type HashConfig = { readonly type: 'header'; readonly name: string } | { readonly type: 'cookie'; readonly name: string } | { readonly type: 'source-ip' };

export interface FaultConfig {
  readonly delay?: { readonly ms: number; readonly perMillion: number };
  readonly abort?: { readonly httpStatus: number; readonly grpcStatus: number | undefined; readonly perMillion: number };
  /** Only requests whose headers match all of these get faults. */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

/** A token bucket: starts full with maxTokens, gains tokensPerFill every fillIntervalMs. */
export interface RateLimitConfig {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

/** Circuit breaker thresholds of a cluster (Envoy defaults when unset: 1024, 1024, 1024, 3). */
export interface CircuitLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  /** When set, replaces maxRetries: retries in flight ≤ max(minConcurrency, percent% of requests in flight). */
  readonly retryBudget?: { readonly percent: number; readonly minConcurrency: number };
}

/** Envoy's defaults for thresholds that are not set (also when a cluster sets no circuit breakers). */
export const DEFAULT_LIMITS: CircuitLimits = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

export interface OutlierConfig {
  /** Consecutive failures that eject an endpoint; 0 = off. */
  readonly consecutiveErrors: number;
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionPercent: number;
  /** Eject one endpoint even when maxEjectionPercent allows none (Envoy's always_eject_one_host). */
  readonly alwaysEjectOne?: boolean;
  /** Failure percentage over one interval that ejects an endpoint; undefined = off. */
  readonly failurePercent?: { readonly threshold: number; readonly minimumRequests: number };
}
