// What the data plane keeps per cluster name across config swaps, so a new snapshot neither
// forgets load nor un-ejects a failing endpoint: requests and retries in flight (for circuit
// breaking and the retry budget), the requests waiting for a connection, and the outlier
// detector. It also holds the resilience event counts of the cluster's service, bound once per
// config so the layers never look them up. An endpoint that leaves the cluster or is ejected
// takes its waiting requests with it to another endpoint (pending-requests.ts, reroute).
import type { BalancerEndpoint } from '../balancer/index.js';
import type { ClusterConfig } from '../config/runtime-config.js';
import { ClusterEvents, type EjectionReason } from '../metrics/cluster-events.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { OutlierDetector, type EjectionListener } from './outlier-detector.js';
import { PendingQueue, PendingRequests } from './pending-requests.js';

export class ClusterRuntime implements EjectionListener {
  /** Requests in flight to the cluster (counted only when it has circuit breaker limits). */
  activeRequests = 0;
  /** Requests in flight that are retrying. */
  activeRetries = 0;
  outlier: OutlierDetector | undefined = undefined;
  /** Retries, timeouts, rejections and ejections of the cluster's service (the `service` label). */
  events: ClusterEvents = UNBOUND;
  /** HTTP/1.1 requests waiting for a connection (maxConnections reached; at most maxPendingRequests). */
  readonly pending: PendingQueue;

  /** `bind` gives the counts of a service (default: counts no metrics read); `hub`: the data plane's waiting queues. */
  constructor(
    private readonly bind: (service: string) => ClusterEvents = (service) => new ClusterEvents(service),
    hub = new PendingRequests(),
  ) {
    this.pending = new PendingQueue(hub, () => this.events);
  }

  /** Follows a new config of the cluster. */
  update(config: ClusterConfig, members: readonly BalancerEndpoint<UpstreamEndpoint>[]): void {
    if (this.events === UNBOUND || this.events.service !== config.service) this.events = this.bind(config.service);
    if (config.outlier === undefined) {
      this.outlier?.stop();
      this.outlier = undefined;
    } else if (this.outlier === undefined) {
      this.outlier = new OutlierDetector(config.outlier, members, config.lbPolicy, this);
    } else {
      this.outlier.update(config.outlier, members, config.lbPolicy);
    }
    if (this.pending.length > 0) this.pending.reroute(leftOrUnhealthy(members), 'removed');
  }

  ejected(endpoint: UpstreamEndpoint, reason: EjectionReason): void {
    this.events.ejections[reason]++;
    if (this.pending.length > 0) this.pending.reroute((e) => e === endpoint, 'ejected');
  }

  ejectionOverflowed(reason: EjectionReason): void {
    this.events.ejectionsOverflow[reason]++;
  }

  stop(): void {
    this.outlier?.stop();
  }
}

/** Whether an endpoint is gone from `members`: not listed, or unhealthy while some other is healthy (the balancer leaves it out then). */
function leftOrUnhealthy(members: readonly BalancerEndpoint<UpstreamEndpoint>[]): (endpoint: UpstreamEndpoint) => boolean {
  const anyHealthy = members.some((m) => m.healthy);
  return (endpoint) => {
    const m = members.find((x) => x.target === endpoint);
    return m === undefined || (anyHealthy && !m.healthy);
  };
}

/** Counts of a runtime before its first config (and of stand-ins that never get one). */
const UNBOUND = new ClusterEvents('unknown');

/** Cluster runtimes by cluster name. */
export class ClusterRuntimes {
  private readonly byName = new Map<string, ClusterRuntime>();
  /** The clusters' pending requests; the endpoint pools tell it when a connection frees up. */
  readonly pending = new PendingRequests();

  /** `bind`: where each cluster's event counts live (ProxyMetrics.clusterEvents). */
  constructor(private readonly bind?: (service: string) => ClusterEvents) {}

  get(name: string): ClusterRuntime {
    let r = this.byName.get(name);
    if (r === undefined) this.byName.set(name, (r = new ClusterRuntime(this.bind, this.pending)));
    return r;
  }

  /** Every runtime, by cluster name. */
  all(): IterableIterator<[string, ClusterRuntime]> {
    return this.byName.entries();
  }

  /** Drops the runtimes of clusters not in `names` (in-flight requests keep their object). */
  retainOnly(names: ReadonlySet<string>): void {
    for (const [name, r] of this.byName) {
      if (names.has(name)) continue;
      r.stop();
      this.byName.delete(name);
    }
  }

  close(): void {
    this.retainOnly(new Set());
  }
}
