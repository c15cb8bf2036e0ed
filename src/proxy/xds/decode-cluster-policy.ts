// Decodes a Cluster's circuit breakers (DEFAULT priority thresholds, retry budget) and outlier
// detection into the proxy's CircuitLimits and OutlierConfig.
import { DEFAULT_LIMITS, type CircuitLimits, type OutlierConfig } from '../config/resilience-config.js';
import { XDS_PROBLEM, show } from './errors.js';
import type { ProblemSink } from './decode-fields.js';
import { at, idx, isObj, readDurationMs, readList, readObj, readWeight, type Obj } from './decode-fields.js';

function u32(s: ProblemSink, obj: Obj, field: string, path: string, fallback: number): number | undefined {
  return obj[field] === undefined ? fallback : readWeight(s, obj[field], at(path, field), true);
}

/** The DEFAULT-priority thresholds; undefined without problems when the cluster sets none. */
export function decodeCircuitBreakers(s: ProblemSink, raw: Obj): CircuitLimits | undefined {
  const cb = readObj(s, raw, 'circuitBreakers', '', false);
  if (!cb) return undefined;
  const list = readList(s, cb, 'thresholds', 'circuitBreakers');
  const before = s.problems.length;
  let limits: CircuitLimits | undefined;
  list.forEach((t, i) => {
    const p = idx('circuitBreakers.thresholds', i);
    if (!isObj(t)) return void s.add(p, XDS_PROBLEM.INVALID, `must be a Thresholds object, got ${show(t)}`);
    // Trellis has no request priorities: HIGH thresholds never apply.
    if ((t.priority ?? 'DEFAULT') !== 'DEFAULT') return;
    if (t.trackRemaining !== undefined || t.maxConnectionPools !== undefined)
      s.add(p, XDS_PROBLEM.UNSUPPORTED, 'trackRemaining and maxConnectionPools are not supported by Trellis proxy');
    const maxConnections = u32(s, t, 'maxConnections', p, DEFAULT_LIMITS.maxConnections);
    const maxPendingRequests = u32(s, t, 'maxPendingRequests', p, DEFAULT_LIMITS.maxPendingRequests);
    const maxRequests = u32(s, t, 'maxRequests', p, DEFAULT_LIMITS.maxRequests);
    const maxRetries = u32(s, t, 'maxRetries', p, DEFAULT_LIMITS.maxRetries);
    let retryBudget: CircuitLimits['retryBudget'];
    const rb = readObj(s, t, 'retryBudget', p, false);
    if (rb) {
      const bp = at(p, 'retryBudget');
      const pct = isObj(rb.budgetPercent) ? (rb.budgetPercent.value ?? 0) : 20; // Envoy's default: 20%
      if (typeof pct !== 'number' || pct < 0 || pct > 100) s.add(at(bp, 'budgetPercent'), XDS_PROBLEM.INVALID, `must be a Percent { value } 0..100, got ${show(rb.budgetPercent)}`);
      const minConcurrency = u32(s, rb, 'minRetryConcurrency', bp, 3);
      if (typeof pct === 'number' && minConcurrency !== undefined) retryBudget = { percent: pct, minConcurrency };
    }
    if (limits) return void s.add(p, XDS_PROBLEM.DUPLICATE, 'a second DEFAULT-priority threshold');
    if (maxConnections !== undefined && maxPendingRequests !== undefined && maxRequests !== undefined && maxRetries !== undefined) {
      limits = { maxConnections, maxPendingRequests, maxRequests, maxRetries, ...(retryBudget ? { retryBudget } : {}) };
    }
  });
  return s.problems.length > before ? undefined : limits;
}

const UNSUPPORTED_OUTLIER = [
  'consecutiveGatewayFailure',
  'successRateMinimumHosts',
  'successRateRequestVolume',
  'successRateStdevFactor',
  'consecutiveLocalOriginFailure',
  'splitExternalLocalOriginErrors',
  'maxEjectionTime',
  'maxEjectionTimeJitter',
  'failurePercentageThresholdLocalOrigin',
];

/** Outlier detection: consecutive 5xx (with enforcement 0 or 100%) and failure percentage. */
export function decodeOutlierDetection(s: ProblemSink, raw: Obj): OutlierConfig | undefined {
  const od = readObj(s, raw, 'outlierDetection', '', false);
  if (!od) return undefined;
  const p = 'outlierDetection';
  const before = s.problems.length;
  for (const f of UNSUPPORTED_OUTLIER) if (od[f] !== undefined) s.add(at(p, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
  // Success-rate ejection is on by default in Envoy (enforcing 100%); Trellis proxy does not do it, so it must be off.
  if (u32(s, od, 'enforcingSuccessRate', p, 100) !== 0 && od.enforcingSuccessRate !== undefined)
    s.add(at(p, 'enforcingSuccessRate'), XDS_PROBLEM.UNSUPPORTED, 'success-rate ejection is not supported by Trellis proxy; use failure percentage');
  const consecutive = u32(s, od, 'consecutive_5xx', p, 5);
  const enforcing = u32(s, od, 'enforcingConsecutive_5xx', p, 100);
  if (enforcing !== undefined && enforcing !== 0 && enforcing !== 100)
    s.add(at(p, 'enforcingConsecutive_5xx'), XDS_PROBLEM.UNSUPPORTED, `Trellis proxy enforces 0% or 100%, got ${enforcing}`);
  const intervalMs = readDurationMs(s, od, 'interval', p, 10_000);
  const baseEjectionMs = readDurationMs(s, od, 'baseEjectionTime', p, 30_000);
  const maxEjectionPercent = u32(s, od, 'maxEjectionPercent', p, 10);
  const fpEnforcing = u32(s, od, 'enforcingFailurePercentage', p, 0);
  const threshold = u32(s, od, 'failurePercentageThreshold', p, 85);
  const minimumRequests = u32(s, od, 'failurePercentageRequestVolume', p, 50);
  if (fpEnforcing !== undefined && fpEnforcing !== 0 && fpEnforcing !== 100)
    s.add(at(p, 'enforcingFailurePercentage'), XDS_PROBLEM.UNSUPPORTED, `Trellis proxy enforces 0% or 100%, got ${fpEnforcing}`);
  if (intervalMs === 0) s.add(at(p, 'interval'), XDS_PROBLEM.INVALID, 'must be above 0');
  if (
    s.problems.length > before ||
    consecutive === undefined ||
    intervalMs === undefined ||
    baseEjectionMs === undefined ||
    maxEjectionPercent === undefined ||
    threshold === undefined ||
    minimumRequests === undefined
  )
    return undefined;
  return {
    consecutiveErrors: enforcing === 0 ? 0 : consecutive,
    intervalMs,
    baseEjectionMs,
    maxEjectionPercent: Math.min(100, maxEjectionPercent),
    alwaysEjectOne: isObj(od.alwaysEjectOneHost) && od.alwaysEjectOneHost.value === true,
    ...(fpEnforcing === 100 ? { failurePercent: { threshold, minimumRequests } } : {}),
  };
}
