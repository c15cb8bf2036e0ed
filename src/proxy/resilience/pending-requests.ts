// Circuit breaking, pending requests (Envoy's max_pending_requests): an HTTP/1.1 request whose
// cluster is at maxConnections (no idle connection to its endpoint, and the cluster's
// connections at the limit) waits in the cluster's bounded FIFO queue until a connection frees
// up; when maxPendingRequests already wait it fails fast with 503 CIRCUIT_BREAKER_OPEN. A
// waiting request is the context's upstream call, so the route timeout, a per-try timeout and
// a client that goes away all take it out of the queue (cancel) with no extra bookkeeping.
// A waiter whose endpoint leaves the cluster or is ejected is taken out and sent on to another
// endpoint (`reroute`): it never went out, so it is not failed and does not wait for nothing.
import type { CircuitLimits } from '../config/resilience-config.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import { endpointGone, pendingOverflow } from '../errors.js';
import type { EndpointRequest, UpstreamCall } from '../http/request-context.js';
import type { ClusterEvents } from '../metrics/cluster-events.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';

/** Starts the upstream exchange of a request that may have a connection now. */
export type Dispatch = (ctx: EndpointRequest) => void;

/** HTTP/1.1 connections of a cluster: open or opening, busy and idle, over its endpoints. */
export function clusterConnections(cluster: ClusterState): number {
  let n = 0;
  for (const e of cluster.endpoints) n += e.h1.live;
  return n;
}

/**
 * The queues of one data plane that have requests waiting. Pools call `capacityFreed` whenever
 * a connection goes idle or closes; with nothing waiting that is one size check (the hot path).
 */
export class PendingRequests {
  /** Invariant: exactly the queues with at least one waiter. */
  private readonly waiting = new Set<PendingQueue>();
  private scheduled = false;

  capacityFreed(): void {
    if (this.waiting.size === 0 || this.scheduled) return;
    // After the pool's own bookkeeping (a release happens inside the connection's response handling).
    this.scheduled = true;
    queueMicrotask(this.drain);
  }

  /** @internal for PendingQueue */
  mark(queue: PendingQueue, waiting: boolean): void {
    if (waiting) this.waiting.add(queue);
    else this.waiting.delete(queue);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    for (const q of this.waiting) q.drain();
  };
}

class Waiter implements UpstreamCall {
  constructor(
    readonly queue: PendingQueue,
    readonly ctx: EndpointRequest,
    readonly dispatch: Dispatch,
  ) {}

  cancel(): void {
    this.queue.remove(this);
  }
}

/** The pending requests of one cluster (kept across config swaps with its runtime). */
export class PendingQueue {
  /** Invariant: in arrival order; each is its context's `upstream`. */
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly hub: PendingRequests,
    private readonly events: () => ClusterEvents,
  ) {}

  /** Requests waiting now (tests and /stats read it). */
  get length(): number {
    return this.waiters.length;
  }

  /**
   * Dispatches `ctx` (cluster and endpoint chosen) when a connection is available and nobody
   * waits before it; else queues it, or fails it when maxPendingRequests already wait.
   */
  admit(ctx: EndpointRequest, limits: CircuitLimits, dispatch: Dispatch): void {
    if (this.waiters.length === 0 && (ctx.endpoint.h1.idleCount > 0 || clusterConnections(ctx.cluster) < limits.maxConnections)) {
      dispatch(ctx);
      return;
    }
    if (this.waiters.length >= limits.maxPendingRequests) {
      this.events().breakerRejections.max_pending_requests++;
      ctx.fail(pendingOverflow(ctx.cluster.name, limits.maxConnections, limits.maxPendingRequests));
      return;
    }
    const w = new Waiter(this, ctx, dispatch);
    this.waiters.push(w);
    ctx.upstream = w;
    if (this.waiters.length === 1) this.hub.mark(this, true);
  }

  /** @internal Takes a waiter out (cancelled, or dispatched). */
  remove(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    if (this.waiters.length === 0) this.hub.mark(this, false);
  }

  /**
   * Takes out the waiters bound for an endpoint that `gone` names (it left the cluster, or was
   * ejected: `why`) and fails each attempt as ENDPOINT_GONE, which the retry layer sends to
   * another endpoint at once. Off the hot path: on a config change or an ejection.
   */
  reroute(gone: (endpoint: UpstreamEndpoint) => boolean, why: 'removed' | 'ejected'): void {
    if (this.waiters.length === 0) return;
    const moving: Waiter[] = [];
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      if (gone(w.ctx.endpoint)) {
        this.waiters.splice(i, 1);
        moving.push(w);
      } else i++;
    }
    if (this.waiters.length === 0) this.hub.mark(this, false);
    this.events().reroutes[why === 'removed' ? 'endpoint_removed' : 'endpoint_ejected'] += moving.length;
    // Out of the queue first: a rerouted request may join it again, behind the others.
    for (const { ctx } of moving) {
      ctx.upstream = undefined;
      ctx.attemptFailed(endpointGone(ctx.endpoint.key, why));
    }
  }

  /** Dispatches, in order, every waiter that can have a connection now. */
  drain(): void {
    let counted: ClusterState | undefined;
    let connections = 0;
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      const { ctx } = w;
      const cluster = ctx.cluster;
      const idle = ctx.endpoint.h1.idleCount > 0;
      if (!idle && cluster !== counted) {
        counted = cluster;
        connections = clusterConnections(cluster);
      }
      const limit = cluster.config.limits?.maxConnections ?? Infinity;
      if (!idle && connections >= limit) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      if (!idle && cluster === counted) connections++; // the dispatch opens one
      ctx.upstream = undefined;
      w.dispatch(ctx);
    }
    if (this.waiters.length === 0) this.hub.mark(this, false);
  }
}
