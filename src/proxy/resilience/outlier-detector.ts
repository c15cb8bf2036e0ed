// Outlier detection of one cluster (passive health checking): an endpoint is ejected after
// `consecutiveErrors` failures in a row, or when its failure percentage over one interval
// reaches the threshold; an ejection lasts baseEjection × (times ejected) and ends on its own
// at an interval tick. At most maxEjectionPercent of the endpoints are out at once (one more
// with alwaysEjectOne, as Envoy's always_eject_one_host). The picker is rebuilt only when the ejected set changes.
import { createBalancer, type Balancer, type BalancerEndpoint } from '../balancer/index.js';
import type { LbPolicy } from '../config/runtime-config.js';
import type { OutlierConfig } from '../config/resilience-config.js';
import type { EjectionReason } from '../metrics/cluster-events.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';

interface EndpointStats {
  consecutive: number;
  requests: number;
  failures: number;
  /** Times ejected so far (drops by one per clean interval): the ejection time multiplier. */
  ejections: number;
  /** performance.now() when the current ejection ends; 0 when not ejected. */
  ejectedUntil: number;
}

/** Hears of ejections: made (the cluster's runtime counts them and re-routes the endpoint's waiting requests), or held back by maxEjectionPercent. */
export interface EjectionListener {
  ejected(endpoint: UpstreamEndpoint, reason: EjectionReason): void;
  ejectionOverflowed(reason: EjectionReason): void;
}

const IGNORE_EJECTIONS: EjectionListener = { ejected: () => {}, ejectionOverflowed: () => {} };

export class OutlierDetector {
  /** The picker over the endpoints not ejected now. */
  balancer: Balancer<UpstreamEndpoint>;
  private config: OutlierConfig;
  private members: readonly BalancerEndpoint<UpstreamEndpoint>[] = [];
  private policy: LbPolicy = 'round_robin';
  private readonly stats = new Map<UpstreamEndpoint, EndpointStats>();
  private ejectedCount = 0;
  private timer: NodeJS.Timeout;
  /** Ejections so far (tests and /stats read it). */
  totalEjections = 0;

  /** `listener` hears of each ejection (trellis_outlier_ejections_total) and each one held back. */
  constructor(
    config: OutlierConfig,
    members: readonly BalancerEndpoint<UpstreamEndpoint>[],
    policy: LbPolicy,
    private readonly listener: EjectionListener = IGNORE_EJECTIONS,
  ) {
    this.config = config;
    this.balancer = createBalancer(policy, members);
    this.timer = this.startTimer();
    this.update(config, members, policy);
  }

  /** A new config or endpoint set: keeps the stats of endpoints still present. */
  update(config: OutlierConfig, members: readonly BalancerEndpoint<UpstreamEndpoint>[], policy: LbPolicy): void {
    if (config.intervalMs !== this.config.intervalMs) {
      clearInterval(this.timer);
      this.config = config;
      this.timer = this.startTimer();
    }
    this.config = config;
    this.members = members;
    this.policy = policy;
    const present = new Set(members.map((m) => m.target));
    for (const [e, st] of this.stats) {
      if (present.has(e)) continue;
      // An ejected endpoint that left no longer counts against maxEjectionPercent.
      if (st.ejectedUntil !== 0) this.ejectedCount--;
      this.stats.delete(e);
    }
    this.rebuild();
  }

  /** The outcome of one attempt to `endpoint`: ok, or a failure (5xx, connect failure, reset, timeout). */
  record(endpoint: UpstreamEndpoint, ok: boolean): void {
    let st = this.stats.get(endpoint);
    if (st === undefined) {
      if (!this.members.some((m) => m.target === endpoint)) return;
      st = { consecutive: 0, requests: 0, failures: 0, ejections: 0, ejectedUntil: 0 };
      this.stats.set(endpoint, st);
    }
    st.requests++;
    if (ok) {
      st.consecutive = 0;
      return;
    }
    st.failures++;
    st.consecutive++;
    const limit = this.config.consecutiveErrors;
    if (limit > 0 && st.consecutive >= limit && st.ejectedUntil === 0) this.eject(endpoint, st, 'consecutive_errors');
  }

  /** Whether `endpoint` is ejected now. */
  isEjected(endpoint: UpstreamEndpoint): boolean {
    return (this.stats.get(endpoint)?.ejectedUntil ?? 0) !== 0;
  }

  get ejected(): number {
    return this.ejectedCount;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private startTimer(): NodeJS.Timeout {
    const t = setInterval(() => this.tick(), this.config.intervalMs);
    t.unref();
    return t;
  }

  private maxEjected(): number {
    const share = Math.floor((this.members.length * this.config.maxEjectionPercent) / 100);
    return this.config.alwaysEjectOne === true ? Math.max(1, share) : share;
  }

  private eject(endpoint: UpstreamEndpoint, st: EndpointStats, reason: EjectionReason): boolean {
    if (this.ejectedCount >= this.maxEjected()) {
      // Once per run of errors (each further error tries again), once per interval for the rate.
      if (reason === 'failure_percent' || st.consecutive === this.config.consecutiveErrors) this.listener.ejectionOverflowed(reason);
      return false;
    }
    st.ejections++;
    st.ejectedUntil = performance.now() + this.config.baseEjectionMs * st.ejections;
    st.consecutive = 0;
    this.ejectedCount++;
    this.totalEjections++;
    this.rebuild();
    // After the rebuild: requests the listener re-routes must not be given this endpoint again.
    this.listener.ejected(endpoint, reason);
    return true;
  }

  /** Ends ejections that are over, applies the failure percentage, starts a new interval. */
  private tick(): void {
    const now = performance.now();
    let changed = false;
    const fp = this.config.failurePercent;
    for (const [endpoint, st] of this.stats) {
      if (st.ejectedUntil !== 0 && now >= st.ejectedUntil) {
        st.ejectedUntil = 0;
        st.consecutive = 0;
        this.ejectedCount--;
        changed = true;
      } else if (st.ejectedUntil === 0 && fp !== undefined && st.requests >= fp.minimumRequests && (st.failures * 100) / st.requests >= fp.threshold) {
        this.eject(endpoint, st, 'failure_percent');
      } else if (st.ejectedUntil === 0 && st.failures === 0 && st.ejections > 0) {
        st.ejections--;
      }
      st.requests = 0;
      st.failures = 0;
    }
    if (changed) this.rebuild();
  }

  private rebuild(): void {
    const members = this.ejectedCount === 0 ? this.members : this.members.filter((m) => !this.isEjected(m.target));
    // Everything ejected cannot happen (at most maxEjected < n unless n is 1); keep the cluster usable anyway.
    this.balancer = createBalancer(this.policy, members.length > 0 ? members : this.members);
  }
}
