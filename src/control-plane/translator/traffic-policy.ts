// TrafficPolicy → Envoy: cluster settings of the targeted Service (load balancer, connect
// timeout, circuit breakers, outlier detection) and the route settings of requests addressed
// to it (virtual-host retries, fault and local rate limit; route timeouts and hash policies).
import { durationMs } from '../../api/duration.js';
import type { HTTPRouteRule, TrafficPolicy, TrafficRetry } from '../../api/resource.js';
import type { Cluster, Duration, FractionalPercent, HashPolicy, HTTPFault, LocalRateLimit, RetryPolicy, VirtualHost } from '../../xds/envoy-types.js';
import { FILTER_FAULT, FILTER_LOCAL_RATE_LIMIT, HTTP_FAULT, LOCAL_RATE_LIMIT, typeUrl } from '../../xds/type-urls.js';
import { durationFromMs } from './clusters.js';
import { serviceKey } from './selection.js';

/** The TrafficPolicy that applies to a Service, if any. */
export type PolicyLookup = (namespace: string, service: string) => TrafficPolicy | undefined;

/** Methods retried unless the policy allows non-idempotent retries (RFC 9110 idempotent methods). */
export const IDEMPOTENT_METHODS = 'GET|HEAD|OPTIONS|TRACE|PUT|DELETE';

const created = (p: TrafficPolicy): number => {
  const t = Date.parse(p.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
};

/**
 * Indexes policies by their target. When two target the same Service the older one
 * (creationTimestamp, then name) applies and the other gets a warning.
 */
export function indexPolicies(policies: readonly TrafficPolicy[], exists: (namespace: string, name: string) => boolean): { lookup: PolicyLookup; warnings: string[] } {
  const warnings: string[] = [];
  const sorted = [...policies].sort((a, b) => created(a) - created(b) || (a.metadata.name < b.metadata.name ? -1 : 1));
  const byTarget = new Map<string, TrafficPolicy>();
  for (const p of sorted) {
    const { namespace, name } = p.metadata;
    const target = p.spec.targetRef.name;
    if (!exists(namespace, target)) warnings.push(`TrafficPolicy ${namespace}/${name}: Service ${namespace}/${target} does not exist; the policy applies to nothing`);
    const key = serviceKey(namespace, target);
    const first = byTarget.get(key);
    if (first) warnings.push(`TrafficPolicy ${namespace}/${name}: Service ${namespace}/${target} already has TrafficPolicy ${first.metadata.name} (older); this one is ignored`);
    else byTarget.set(key, p);
  }
  return { lookup: (ns, svc) => byTarget.get(serviceKey(ns, svc)), warnings };
}

const ms = (d: string): Duration => durationFromMs(durationMs(d));
const u32 = (value: number) => ({ value });
/** A percentage (0..100, fractions allowed) as a FractionalPercent per million. */
const fraction = (percent: number): FractionalPercent => ({ numerator: Math.round(percent * 10_000), denominator: 'MILLION' });

const LB = { RoundRobin: 'ROUND_ROBIN', LeastRequest: 'LEAST_REQUEST', Random: 'RANDOM', RingHash: 'RING_HASH' } as const;

/** `cluster` with the settings of `policy` (the policy of the cluster's Service). */
export function clusterWithPolicy(cluster: Cluster, policy: TrafficPolicy | undefined): Cluster {
  if (!policy) return cluster;
  const s = policy.spec;
  const out: Cluster = { ...cluster };
  if (s.loadBalancer) {
    out.lbPolicy = LB[s.loadBalancer.type];
    if (s.loadBalancer.type === 'RingHash') out.ringHashLbConfig = { minimumRingSize: { value: 1024 } };
  }
  if (s.timeouts?.connect) out.connectTimeout = ms(s.timeouts.connect);
  const cb = s.circuitBreaker;
  const budget = s.retry?.budget;
  if (cb || budget) {
    out.circuitBreakers = {
      thresholds: [
        {
          priority: 'DEFAULT',
          ...(cb?.maxConnections !== undefined ? { maxConnections: u32(cb.maxConnections) } : {}),
          ...(cb?.maxPendingRequests !== undefined ? { maxPendingRequests: u32(cb.maxPendingRequests) } : {}),
          ...(cb?.maxRequests !== undefined ? { maxRequests: u32(cb.maxRequests) } : {}),
          ...(cb?.maxRetries !== undefined ? { maxRetries: u32(cb.maxRetries) } : {}),
          ...(budget ? { retryBudget: { budgetPercent: { value: budget.percent }, minRetryConcurrency: u32(budget.minConcurrency) } } : {}),
        },
      ],
    };
  }
  const od = s.outlierDetection;
  if (od) {
    out.outlierDetection = {
      // Envoy's default of 5 consecutive errors applies when unset; 0% enforcement turns it off.
      consecutive_5xx: u32(od.consecutiveErrors ?? 5),
      enforcingConsecutive_5xx: u32(od.consecutiveErrors === undefined ? 0 : 100),
      interval: ms(od.interval),
      baseEjectionTime: ms(od.baseEjectionTime),
      maxEjectionPercent: u32(od.maxEjectionPercent),
      // A small Service still ejects its one bad endpoint (10 % of 3 rounds down to none).
      alwaysEjectOneHost: { value: true },
      ...(od.failureRate
        ? {
            failurePercentageThreshold: u32(od.failureRate.threshold),
            enforcingFailurePercentage: u32(100),
            failurePercentageMinimumHosts: u32(1),
            failurePercentageRequestVolume: u32(od.failureRate.minimumRequests),
          }
        : {}),
    };
  }
  return out;
}

const GRPC_RETRY_ON: Record<string, string> = {
  CANCELLED: 'cancelled',
  DEADLINE_EXCEEDED: 'deadline-exceeded',
  INTERNAL: 'internal',
  RESOURCE_EXHAUSTED: 'resource-exhausted',
  UNAVAILABLE: 'unavailable',
};
const IDEMPOTENT_ONLY = [{ name: ':method', stringMatch: { safeRegex: { regex: IDEMPOTENT_METHODS } } }];

/** The Envoy retry policy of a TrafficPolicy's `retry` (and `timeouts.perTry`). */
export function policyRetry(retry: TrafficRetry | undefined, perTry: string | undefined): RetryPolicy | undefined {
  if (!retry && !perTry) return undefined;
  if (!retry) return { retryOn: '', numRetries: u32(0), perTryTimeout: ms(perTry!) };
  const on = [...retry.on, ...(retry.grpcCodes ?? []).map((c) => GRPC_RETRY_ON[c]!)];
  const out: RetryPolicy = { retryOn: on.join(','), numRetries: u32(retry.attempts) };
  if (perTry) out.perTryTimeout = ms(perTry);
  if (retry.codes?.length) out.retriableStatusCodes = retry.codes;
  if (retry.backoff) out.retryBackOff = { baseInterval: ms(retry.backoff.base), ...(retry.backoff.max ? { maxInterval: ms(retry.backoff.max) } : {}) };
  if (!retry.nonIdempotent) out.retriableRequestHeaders = IDEMPOTENT_ONLY;
  return out;
}

/**
 * The route-level retry policy of an HTTPRoute rule, or undefined when the rule sets neither
 * `retry` nor `timeouts.backendRequest` (then the virtual host's applies). GEP-1731: the listed
 * codes and connection errors are retried; only idempotent methods.
 */
export function ruleRetry(rule: HTTPRouteRule, policy: TrafficPolicy | undefined): RetryPolicy | undefined {
  const backend = rule.timeouts?.backendRequest;
  const perTry = backend !== undefined && durationMs(backend) > 0 ? backend : undefined;
  if (!rule.retry) return perTry ? policyRetry(policy?.spec.retry, perTry) : undefined;
  const codes = rule.retry.codes ?? [];
  const out: RetryPolicy = { retryOn: ['connect-failure', 'reset', ...(codes.length ? ['retriable-status-codes'] : [])].join(','), numRetries: u32(rule.retry.attempts ?? 1) };
  if (perTry) out.perTryTimeout = ms(perTry);
  if (codes.length) out.retriableStatusCodes = [...new Set(codes)];
  if (rule.retry.backoff) out.retryBackOff = { baseInterval: ms(rule.retry.backoff) };
  out.retriableRequestHeaders = IDEMPOTENT_ONLY;
  return out;
}

/** The overall timeout of a route: the rule's `timeouts.request`, else the policy's, else none. */
export function routeTimeout(rule: HTTPRouteRule | undefined, policy: TrafficPolicy | undefined): Duration {
  const t = rule?.timeouts?.request ?? policy?.spec.timeouts?.request;
  return t === undefined ? { seconds: 0 } : ms(t);
}

/** The ring-hash key of requests to a backend whose policy is RingHash. */
export function hashPolicy(policy: TrafficPolicy | undefined): HashPolicy[] | undefined {
  const h = policy?.spec.loadBalancer?.type === 'RingHash' ? policy.spec.loadBalancer.hashOn : undefined;
  if (!h) return undefined;
  if ('header' in h) return [{ header: { headerName: h.header.toLowerCase() } }];
  if ('cookie' in h) return [{ cookie: { name: h.cookie } }];
  return [{ connectionProperties: { sourceIp: true } }];
}

/** Virtual-host settings of requests addressed to a Service with `policy`: retries, fault injection, local rate limit. */
export function hostPolicy(policy: TrafficPolicy | undefined, statPrefix: string): Pick<VirtualHost, 'retryPolicy' | 'typedPerFilterConfig'> {
  if (!policy) return {};
  const s = policy.spec;
  const out: Pick<VirtualHost, 'retryPolicy' | 'typedPerFilterConfig'> = {};
  const retry = policyRetry(s.retry, s.timeouts?.perTry);
  if (retry) out.retryPolicy = retry;
  const filters: Record<string, HTTPFault | LocalRateLimit> = {};
  const f = s.faultInjection;
  if (f) {
    const fault: HTTPFault = { '@type': typeUrl(HTTP_FAULT) };
    if (f.delay) fault.delay = { fixedDelay: ms(f.delay.fixedDelay), percentage: fraction(f.delay.percent) };
    if (f.abort)
      fault.abort = { ...(f.abort.httpStatus !== undefined ? { httpStatus: f.abort.httpStatus } : { grpcStatus: f.abort.grpcStatus! }), percentage: fraction(f.abort.percent) };
    if (f.headers?.length) fault.headers = f.headers.map((h) => ({ name: h.name.toLowerCase(), stringMatch: { exact: h.value } }));
    filters[FILTER_FAULT] = fault;
  }
  const rl = s.rateLimit;
  if (rl) {
    const always = { defaultValue: { numerator: 100, denominator: 'HUNDRED' as const }, runtimeKey: 'trellis_local_rate_limit' };
    filters[FILTER_LOCAL_RATE_LIMIT] = {
      '@type': typeUrl(LOCAL_RATE_LIMIT) as LocalRateLimit['@type'],
      statPrefix,
      tokenBucket: { maxTokens: rl.burst ?? rl.requests, tokensPerFill: u32(rl.requests), fillInterval: ms(rl.per) },
      filterEnabled: always,
      filterEnforced: always,
    };
  }
  if (Object.keys(filters).length > 0) out.typedPerFilterConfig = filters;
  return out;
}
