// The registry of workloads on plain hosts: a workload joins when its proxy's ADS stream
// delivers valid node metadata and leaves when that stream has been gone for the grace
// period. A proxy that reconnects within the grace period is the same workload (no churn).
import type { EndpointReadiness } from '../../xds/endpoint-readiness.js';
import type { ProxyMetadata } from '../../xds/node-metadata.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { workloadChanged, workloadFromMetadata, type Workload } from './workload.js';

/** What changed: `added` on join, `updated` on new metadata or connected/disconnected, `removed` after the grace period. */
export interface WorkloadEvent {
  type: 'added' | 'updated' | 'removed';
  workload: Workload;
}

export interface WorkloadRegistryOptions {
  /** Read at every disconnect, so a MeshConfig change applies to the next one (default 30). */
  gracePeriodSeconds?: () => number;
  clock?: Clock;
}

/** A stream's claim on a workload; only the newest lease's disconnect counts. */
export type Lease = number;

interface Entry {
  workload: Workload;
  lease: Lease;
  /** Set while disconnected: the timer that removes the workload. */
  timer?: TimerHandle;
}

/**
 * Workloads by node id.
 * Invariant: an entry has a timer if and only if its workload is disconnected.
 */
export class WorkloadRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(e: WorkloadEvent) => void>();
  readonly #clock: Clock;
  readonly #gracePeriodSeconds: () => number;
  #nextLease = 1;

  constructor(opts: WorkloadRegistryOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#gracePeriodSeconds = opts.gracePeriodSeconds ?? (() => 30);
  }

  /**
   * A proxy's stream sent its first request with valid metadata. Returns the lease to pass
   * to `disconnect`: a newer stream for the same id takes over, and the older stream's
   * disconnect is then ignored.
   */
  connect(id: string, meta: ProxyMetadata, readiness?: EndpointReadiness): Lease {
    const lease = this.#nextLease++;
    const old = this.#entries.get(id);
    if (old?.timer !== undefined) this.#clock.clearTimeout(old.timer);
    const workload = workloadFromMetadata(id, meta, true, this.#clock.now(), readiness);
    this.#entries.set(id, { workload, lease });
    if (!old) this.#emit({ type: 'added', workload });
    else if (workloadChanged(old.workload, workload)) this.#emit({ type: 'updated', workload });
    return lease;
  }

  /** The stream holding `lease` is gone; the workload is removed after the grace period unless it reconnects. */
  disconnect(id: string, lease: Lease): void {
    const entry = this.#entries.get(id);
    if (!entry || entry.lease !== lease || !entry.workload.connected) return;
    const graceMs = Math.max(0, this.#gracePeriodSeconds() * 1000);
    if (graceMs === 0) {
      this.#remove(id, entry);
      return;
    }
    entry.workload = { ...entry.workload, connected: false, lastSeen: new Date(this.#clock.now()).toISOString() };
    this.#startGracePeriod(id, entry, graceMs);
    this.#emit({ type: 'updated', workload: entry.workload });
  }

  /**
   * Workloads known before a restart, before any proxy connects: each is listed as disconnected
   * and gets a fresh grace period in which its proxy reconnects (as after any lost stream). So
   * a restarted control plane keeps serving their endpoints instead of an empty mesh until
   * every proxy is back. Ids already present are left alone.
   */
  restore(workloads: readonly Workload[]): void {
    const graceMs = Math.max(0, this.#gracePeriodSeconds() * 1000);
    if (graceMs === 0) return;
    for (const w of workloads) {
      if (this.#entries.has(w.id)) continue;
      const entry: Entry = { workload: { ...w, connected: false }, lease: this.#nextLease++ };
      this.#entries.set(w.id, entry);
      this.#startGracePeriod(w.id, entry, graceMs);
      this.#emit({ type: 'added', workload: entry.workload });
    }
  }

  /** Records that the proxy holding `lease` was heard from (no event: nothing the translator reads changed). */
  touch(id: string, lease: Lease): void {
    const entry = this.#entries.get(id);
    if (entry && entry.lease === lease && entry.workload.connected) {
      entry.workload = { ...entry.workload, lastSeen: new Date(this.#clock.now()).toISOString() };
    }
  }

  /**
   * The proxy holding `lease` reported its endpoint's readiness (on any request of its stream);
   * a change is an `updated` event, so callers' endpoints follow it. A stale lease is ignored.
   */
  setReadiness(id: string, lease: Lease, readiness: EndpointReadiness | undefined): void {
    const entry = this.#entries.get(id);
    if (!entry || entry.lease !== lease || !entry.workload.connected || entry.workload.readiness === readiness) return;
    const { readiness: _old, ...rest } = entry.workload;
    entry.workload = { ...rest, ...(readiness !== undefined ? { readiness } : {}), lastSeen: new Date(this.#clock.now()).toISOString() };
    this.#emit({ type: 'updated', workload: entry.workload });
  }

  /**
   * The workload holding node id `id` when its identity (namespace and service) is not the one
   * given. Invariant: a node id belongs to the identity that registered it until its workload
   * leaves the registry (its grace period ran out); workloads restored after a restart hold
   * theirs as well. The same identity (a restarted proxy, a new token of the same service) may
   * take its node id over.
   */
  heldByOther(id: string, namespace: string, service: string): Workload | undefined {
    const w = this.#entries.get(id)?.workload;
    return w !== undefined && (w.namespace !== namespace || w.service !== service) ? w : undefined;
  }

  get(id: string): Workload | undefined {
    return this.#entries.get(id)?.workload;
  }

  /** Every workload, connected or within its grace period, ordered by id. */
  list(): Workload[] {
    return [...this.#entries.values()].map((e) => e.workload).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Calls `listener` on every change; returns the function that unsubscribes it. */
  onChange(listener: (e: WorkloadEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Cancels every pending grace-period timer (the workloads stay listed). */
  close(): void {
    for (const entry of this.#entries.values()) {
      if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  /** Removes the entry after `graceMs` unless a newer stream took it over by then. */
  #startGracePeriod(id: string, entry: Entry, graceMs: number): void {
    const lease = entry.lease;
    entry.timer = this.#clock.setTimeout(() => {
      if (this.#entries.get(id) === entry && entry.lease === lease) this.#remove(id, entry);
    }, graceMs);
  }

  #remove(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#emit({ type: 'removed', workload: { ...entry.workload, connected: false } });
  }

  #emit(e: WorkloadEvent): void {
    for (const listener of [...this.#listeners]) listener(e);
  }
}
