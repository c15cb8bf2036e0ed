// Collects every connected proxy's request stats (admin /stats/requests) once per interval and
// keeps, per tick, the increase of each subject: a service (what its workloads served, from
// inbound stats), a workload, and an edge (caller workload to callee service, from outbound
// stats). Windows are sums over the last ticks; a proxy whose counters went down restarted,
// and its new counts are the increase. Coverage says which part of a window every proxy's
// counts are in (none before the collector started or before a proxy was first collected).
import http from 'node:http';
import type { ProxyStatus } from '../../api/proxy-status.js';
import { workloadName, type RequestSeries, type RequestStatsReport, type WindowCoverage } from '../../api/telemetry.js';
import type { Logger } from '../../common/log.js';
import { adminRequestOptions, describeAdmin } from './admin-request.js';
import { addInto, emptyAggregate, isFailure, type Aggregate } from './signals.js';

/** One collection: the increase per subject key since the previous one. */
export interface Tick {
  /** Unix milliseconds at the end of the collection. */
  readonly at: number;
  readonly subjects: ReadonlyMap<string, Aggregate>;
}

export interface StatsCollectorOptions {
  proxies(): ProxyStatus[];
  /** Default 1000 ms. */
  intervalMs?: number;
  /** How many ticks are kept (default 600: ten minutes at 1 s). */
  keepTicks?: number;
  logger?: Logger;
  /** Fetches a proxy's report (tests replace it); default GET /stats/requests on its admin listener (see adminRequestOptions). */
  fetchReport?(p: ProxyStatus): Promise<RequestStatsReport>;
}

/** Subject keys. */
export const serviceKey = (service: string): string => `svc\u0000${service}`;
export const workloadKey = (service: string, workload: string): string => `wl\u0000${service}\u0000${workload}`;
export const edgeKey = (source: string, sourceWorkload: string, destination: string): string => `edge\u0000${source}\u0000${sourceWorkload}\u0000${destination}`;
/** A caller as the callee's proxy saw it (inbound stats): what a service page lists as its callers. */
export const inboundEdgeKey = (source: string, sourceWorkload: string, destination: string): string => `inedge\u0000${source}\u0000${sourceWorkload}\u0000${destination}`;
/** What callers saw of a service (outbound stats), including the proxies' own 503s and 504s. */
export const clientKey = (service: string): string => `cli\u0000${service}`;

interface ProxyState {
  /** Last cumulative counts per series key. */
  last: Map<string, { count: number; successes: number; buckets: number[]; sum: number }>;
  workload: string;
  /** Unix ms from which all of this proxy's requests are in the ticks (its first collection when its earlier counts were history). */
  coveredSince: number;
  /** Unix ms of its last successful collection. */
  collectedAt: number;
}

export class StatsCollector {
  readonly ticks: Tick[] = [];
  bounds: number[] = [];
  /** When each proxy was last collected successfully, and the last failure. */
  readonly health = new Map<string, { ok: boolean; at: number; error?: string }>();
  private readonly states = new Map<string, ProxyState>();
  /** When this collector started: a proxy that was already running then (a restarted control plane) is baselined, not counted, on first sight. */
  private readonly startedAt = Date.now();
  private readonly intervalMs: number;
  private readonly keep: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: StatsCollectorOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.keep = opts.keepTicks ?? 600;
  }

  get interval(): number {
    return this.intervalMs;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.collectNow(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Collects from every connected proxy now (concurrent calls share one collection). */
  collectNow(): Promise<void> {
    this.running ??= this.collect().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * How much of the last `seconds` the ticks cover for every registered proxy (connected ones
   * without an admin listener aside): a disconnected proxy is a gap until it is collected again
   * or leaves the registry after its grace period. A proxy collected within the last two
   * intervals counts as covered up to now (its next collection is due, not missing).
   */
  coverage(seconds: number): WindowCoverage {
    const now = Date.now();
    const start = now - seconds * 1000;
    let from = Math.max(start, this.startedAt);
    let to = now;
    const gaps: WindowCoverage['gaps'] = [];
    for (const p of this.opts.proxies()) {
      // A connected proxy without an admin listener (proxyless gRPC) has no stats to miss; a disconnected one is unseen.
      if (p.connected && adminRequestOptions(p, STATS_PATH) === undefined) continue;
      const state = this.states.get(p.id);
      const pFrom = Math.max(start, this.startedAt, state?.coveredSince ?? now);
      const pTo = Math.min(now, state === undefined ? now : state.collectedAt + 2 * this.intervalMs);
      from = Math.max(from, pFrom);
      to = Math.min(to, pTo);
      if (pFrom > start || pTo < now) gaps.push({ proxy: p.id, coveredSeconds: Math.max(0, pTo - pFrom) / 1000, reason: this.gapReason(p, state, pTo < now) });
    }
    const coveredSeconds = Math.max(0, to - from) / 1000;
    return { windowSeconds: seconds, coveredSeconds, fraction: Math.min(1, coveredSeconds / seconds), gaps };
  }

  private gapReason(p: ProxyStatus, state: ProxyState | undefined, stale: boolean): string {
    if (!p.connected) return 'not connected to this control plane (its requests meanwhile are not seen)';
    const health = this.health.get(p.id);
    if (health?.ok === false) return `its stats could not be collected: ${health.error ?? 'no reason given'}`;
    if (state === undefined) return 'not collected yet';
    if (stale) return 'not collected in the last two intervals';
    if (state.coveredSince > this.startedAt) return 'first collected within the window (its earlier counts are history to this control plane)';
    return "this control plane's telemetry started within the window";
  }

  /** The sum of the last `seconds` worth of ticks per subject key (all subjects when `prefix` is ''). */
  window(seconds: number, prefix = ''): Map<string, Aggregate> {
    const since = Date.now() - seconds * 1000 - this.intervalMs / 2;
    const out = new Map<string, Aggregate>();
    for (let i = this.ticks.length - 1; i >= 0 && this.ticks[i]!.at > since; i--) {
      for (const [k, a] of this.ticks[i]!.subjects) {
        if (!k.startsWith(prefix)) continue;
        let into = out.get(k);
        if (into === undefined) out.set(k, (into = emptyAggregate(this.bounds.length)));
        addInto(into, a);
      }
    }
    return out;
  }

  private async collect(): Promise<void> {
    const proxies = this.opts.proxies().filter((p) => adminRequestOptions(p, STATS_PATH) !== undefined);
    const subjects = new Map<string, Aggregate>();
    const reports = await Promise.all(
      proxies.map(async (p) => {
        try {
          const r = await (this.opts.fetchReport ?? fetchReport)(p);
          this.health.set(p.id, { ok: true, at: Date.now() });
          return { p, r };
        } catch (e) {
          this.health.set(p.id, { ok: false, at: Date.now(), error: (e as Error).message });
          this.opts.logger?.debug({ proxy: p.id, reason: (e as Error).message }, 'could not collect request stats');
          return undefined;
        }
      }),
    );
    for (const got of reports) {
      if (got === undefined) continue;
      const { p, r } = got;
      if (this.bounds.length === 0) this.bounds = r.bucketBounds;
      let state = this.states.get(p.id);
      const firstSight = state === undefined;
      // Its cumulative counts hold requests from before we started: take them as the baseline only.
      const history = firstSight && r.startedAt !== undefined && r.startedAt < this.startedAt;
      const at = Date.now();
      if (state === undefined)
        this.states.set(p.id, (state = { last: new Map(), workload: workloadName(p.service, p.labels ?? {}), coveredSince: history ? at : this.startedAt, collectedAt: at }));
      state.collectedAt = at;
      for (const s of r.series) this.addSeries(state, s, history ? undefined : subjects);
    }
    const live = new Set(proxies.map((p) => p.id));
    for (const id of this.states.keys()) if (!live.has(id) && !this.opts.proxies().some((p) => p.id === id)) this.states.delete(id);
    this.ticks.push({ at: Date.now(), subjects });
    if (this.ticks.length > this.keep) this.ticks.splice(0, this.ticks.length - this.keep);
  }

  /** Records `s` as the proxy's latest counts; adds its increase to `subjects` unless that is undefined (a baseline). */
  private addSeries(state: ProxyState, s: RequestSeries, subjects: Map<string, Aggregate> | undefined): void {
    const key = `${s.direction}\u0000${s.service}\u0000${s.sourceService}\u0000${s.sourceWorkload}\u0000${String(s.sourceAuthenticated)}\u0000${s.destinationWorkload}\u0000${s.route}`;
    let successes = 0;
    for (const [code, n] of Object.entries(s.codes)) if (!isFailure(code)) successes += n;
    const prev = state.last.get(key);
    const reset = prev !== undefined && s.count < prev.count;
    const base = prev === undefined || reset ? { count: 0, successes: 0, buckets: [] as number[], sum: 0 } : prev;
    state.last.set(key, { count: s.count, successes, buckets: s.buckets, sum: s.sumSeconds });
    const delta: Aggregate = emptyAggregate(s.buckets.length);
    delta.requests = s.count - base.count;
    if (delta.requests === 0 || subjects === undefined) return;
    delta.successes = successes - base.successes;
    delta.sumSeconds = s.sumSeconds - base.sum;
    let inBuckets = 0;
    for (let i = 0; i < s.buckets.length; i++) {
      delta.buckets[i] = s.buckets[i]! - (base.buckets[i] ?? 0);
      inBuckets += delta.buckets[i]!;
    }
    delta.above = delta.requests - inBuckets;
    const add = (k: string) => {
      let a = subjects.get(k);
      if (a === undefined) subjects.set(k, (a = emptyAggregate(s.buckets.length)));
      addInto(a, delta);
    };
    if (s.direction === 'inbound') {
      if (s.service === 'unknown' || s.service === 'overflow') return;
      add(serviceKey(s.service));
      add(workloadKey(s.service, s.destinationWorkload));
      add(inboundEdgeKey(s.sourceService, s.sourceWorkload, s.service));
    } else {
      add(clientKey(s.service));
      add(edgeKey(s.sourceService, s.sourceWorkload, s.service));
    }
  }
}

const STATS_PATH = '/stats/requests';

function fetchReport(p: ProxyStatus): Promise<RequestStatsReport> {
  return new Promise((resolve, reject) => {
    const options = adminRequestOptions(p, STATS_PATH);
    if (options === undefined) return reject(new Error('the proxy reported no admin listener'));
    const where = `admin ${describeAdmin(options)}${STATS_PATH}`;
    const req = http.get({ ...options, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${where} answered HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RequestStatsReport);
        } catch (e) {
          reject(new Error(`${where} is not JSON: ${(e as Error).message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${where}: no answer within 2 s`)));
    req.on('error', (e) => reject(e.message.startsWith(where) ? e : new Error(`${where}: ${e.message}`)));
  });
}
