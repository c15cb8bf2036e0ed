// Golden-signal arithmetic on windowed counts: an aggregate (requests, successes, latency
// bucket counts) per subject, percentiles interpolated within buckets (as PromQL's
// histogram_quantile does), and which status codes count as failures.
import type { GoldenSignals } from '../../api/telemetry.js';

/** Counts of one subject over some ticks. Invariant: sum(buckets) + above = requests. */
export interface Aggregate {
  requests: number;
  successes: number;
  /** Non-cumulative counts per bucket bound; requests above the last bound are in `above`. */
  buckets: number[];
  above: number;
  sumSeconds: number;
}

export const emptyAggregate = (n: number): Aggregate => ({ requests: 0, successes: 0, buckets: new Array<number>(n).fill(0), above: 0, sumSeconds: 0 });

export function addInto(into: Aggregate, from: Aggregate): void {
  into.requests += from.requests;
  into.successes += from.successes;
  into.above += from.above;
  into.sumSeconds += from.sumSeconds;
  for (let i = 0; i < from.buckets.length; i++) into.buckets[i] = (into.buckets[i] ?? 0) + from.buckets[i]!;
}

// gRPC codes that mean the server failed (as Linkerd and Istio count them): UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
const GRPC_FAILURES = new Set(['2', '4', '12', '13', '14', '15', 'other']);

/** True if a `codes` key ("503", "200/14") is a failure: 5xx, no response (0), or a failing gRPC status. */
export function isFailure(codeKey: string): boolean {
  const slash = codeKey.indexOf('/');
  const status = Number(slash < 0 ? codeKey : codeKey.slice(0, slash));
  if (status >= 500 || status === 0) return true;
  return slash >= 0 && GRPC_FAILURES.has(codeKey.slice(slash + 1));
}

/** The q-quantile (0..1) in seconds, or null without requests. */
export function quantile(a: Aggregate, bounds: readonly number[], q: number): number | null {
  if (a.requests === 0) return null;
  const rank = q * a.requests;
  let seen = 0;
  for (let i = 0; i < a.buckets.length; i++) {
    const n = a.buckets[i]!;
    if (seen + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return bounds[bounds.length - 1]!; // the rank is above the last bound: report the bound
}

const ms = (s: number | null): number | null => (s === null ? null : Math.round(s * 1e6) / 1e3);

/** Golden signals of `a` over `windowSeconds`. */
export function signals(a: Aggregate, bounds: readonly number[], windowSeconds: number): GoldenSignals {
  return {
    requests: a.requests,
    successes: a.successes,
    rps: windowSeconds > 0 ? Math.round((a.requests / windowSeconds) * 1000) / 1000 : 0,
    successRate: a.requests === 0 ? null : a.successes / a.requests,
    p50Ms: ms(quantile(a, bounds, 0.5)),
    p95Ms: ms(quantile(a, bounds, 0.95)),
    p99Ms: ms(quantile(a, bounds, 0.99)),
  };
}
