// Turns the collector's windowed aggregates into the answers of the telemetry API: stat per
// service, workload and edge; the topology; one service's page; a backend's signals for canary
// analysis; a service's history for charts.
import type { ProxyStatus } from '../../api/proxy-status.js';
import { workloadName, type EdgeStat, type HistoryPoint, type ServiceStat, type StatAnswer, type WindowCoverage, type WorkloadStat } from '../../api/telemetry.js';
import { addInto, emptyAggregate, signals, type Aggregate } from './signals.js';
import { clientKey, serviceKey, workloadKey, type StatsCollector } from './stats-collector.js';

const SEP = '\u0000';
const byEdge = (x: EdgeStat, y: EdgeStat): number =>
  x.source.localeCompare(y.source) || x.sourceWorkload.localeCompare(y.sourceWorkload) || x.destination.localeCompare(y.destination);

/** `reviews` means `reviews.default`; `reviews.prod` stays. */
export function qualify(service: string): string {
  return service.includes('.') ? service : `${service}.default`;
}

export function stat(c: StatsCollector, windowSeconds: number, proxies: readonly ProxyStatus[]): StatAnswer & { callers: EdgeStat[] } {
  const w = c.window(windowSeconds);
  const b = c.bounds;
  const services = new Map<string, ServiceStat>();
  const workloads: WorkloadStat[] = [];
  const edges: EdgeStat[] = [];
  const callers: EdgeStat[] = [];
  // Every registered service shows, with or without traffic.
  const known = new Map<string, Set<string>>();
  for (const p of proxies) {
    const svc = `${p.service}.${p.namespace}`;
    if (!known.has(svc)) known.set(svc, new Set());
    known.get(svc)!.add(workloadName(p.service, p.labels ?? {}));
  }
  for (const [k, a] of w) {
    const parts = k.split(SEP);
    if (parts[0] === 'svc') services.set(parts[1]!, { service: parts[1]!, workloads: [], ...signals(a, b, windowSeconds) });
    else if (parts[0] === 'wl') {
      workloads.push({ service: parts[1]!, workload: parts[2]!, ...signals(a, b, windowSeconds) });
      if (!known.has(parts[1]!)) known.set(parts[1]!, new Set());
      known.get(parts[1]!)!.add(parts[2]!);
    } else if (parts[0] === 'edge') edges.push({ source: parts[1]!, sourceWorkload: parts[2]!, destination: parts[3]!, ...signals(a, b, windowSeconds) });
    else if (parts[0] === 'inedge') callers.push({ source: parts[1]!, sourceWorkload: parts[2]!, destination: parts[3]!, ...signals(a, b, windowSeconds) });
  }
  for (const [svc, wls] of known) {
    const s = services.get(svc) ?? { service: svc, workloads: [], ...signals(emptyAggregate(b.length), b, windowSeconds) };
    s.workloads = [...wls].sort();
    services.set(svc, s);
  }
  for (const [svc, wls] of known) {
    for (const wl of wls)
      if (!workloads.some((x) => x.service === svc && x.workload === wl)) workloads.push({ service: svc, workload: wl, ...signals(emptyAggregate(b.length), b, windowSeconds) });
  }
  const last = c.ticks[c.ticks.length - 1];
  return {
    windowSeconds,
    coverage: c.coverage(windowSeconds),
    at: new Date(last?.at ?? Date.now()).toISOString(),
    services: [...services.values()].sort((x, y) => x.service.localeCompare(y.service)),
    workloads: workloads.sort((x, y) => x.service.localeCompare(y.service) || x.workload.localeCompare(y.workload)),
    edges: edges.sort(byEdge),
    callers: callers.sort(byEdge),
  };
}

/** Service-to-service edges (workloads of one caller service merged). */
export function topology(
  c: StatsCollector,
  windowSeconds: number,
  proxies: readonly ProxyStatus[],
): { windowSeconds: number; nodes: ServiceStat[]; edges: Omit<EdgeStat, 'sourceWorkload'>[] } {
  const s = stat(c, windowSeconds, proxies);
  const merged = new Map<string, { source: string; destination: string; a: Aggregate }>();
  const w = c.window(windowSeconds, 'edge' + SEP);
  for (const [k, a] of w) {
    const [, source, , destination] = k.split(SEP) as [string, string, string, string];
    const key = source + SEP + destination;
    let m = merged.get(key);
    if (m === undefined) merged.set(key, (m = { source, destination, a: emptyAggregate(c.bounds.length) }));
    addInto(m.a, a);
  }
  // A service without server-side stats (a subset Service such as reviews-v1, or one outside
  // the mesh) shows what its callers saw.
  const client = c.window(windowSeconds, 'cli' + SEP);
  const fromClients = (name: string): ServiceStat => ({
    service: name,
    workloads: [],
    ...signals(client.get(clientKey(name)) ?? emptyAggregate(c.bounds.length), c.bounds, windowSeconds),
  });
  const nodes = s.services.map((n) => (n.requests === 0 && client.has(clientKey(n.service)) ? { ...fromClients(n.service), workloads: n.workloads } : n));
  for (const m of merged.values()) {
    for (const name of [m.source, m.destination]) {
      if (name !== 'unknown' && !nodes.some((n) => n.service === name)) nodes.push(fromClients(name));
    }
  }
  return { windowSeconds, nodes, edges: [...merged.values()].map((m) => ({ source: m.source, destination: m.destination, ...signals(m.a, c.bounds, windowSeconds) })) };
}

/** Signals of one backend (a service, or one workload of it): what canary analysis reads. */
export function backend(
  c: StatsCollector,
  windowSeconds: number,
  service: string,
  workload: string | undefined,
): ReturnType<typeof signals> & { service: string; workload?: string; windowSeconds: number; coverage: WindowCoverage; clientSide: ReturnType<typeof signals> } {
  const svc = qualify(service);
  const key = workload === undefined ? serviceKey(svc) : workloadKey(svc, workload);
  const w = c.window(windowSeconds);
  const a = w.get(key) ?? emptyAggregate(c.bounds.length);
  const client = w.get(clientKey(svc)) ?? emptyAggregate(c.bounds.length);
  return {
    service: svc,
    ...(workload !== undefined ? { workload } : {}),
    windowSeconds,
    // What the figures stand on: a window the collector did not fully see must not be judged.
    coverage: c.coverage(windowSeconds),
    ...signals(a, c.bounds, windowSeconds),
    clientSide: signals(client, c.bounds, windowSeconds),
  };
}

/** One point per tick over the last `seconds`, each over `smoothTicks` ticks (for charts). */
export function history(c: StatsCollector, service: string, seconds: number, smoothTicks = 5): HistoryPoint[] {
  const key = serviceKey(qualify(service));
  const since = Date.now() - seconds * 1000;
  const ticks = c.ticks;
  const out: HistoryPoint[] = [];
  for (let i = 0; i < ticks.length; i++) {
    if (ticks[i]!.at < since) continue;
    const a = emptyAggregate(c.bounds.length);
    const from = Math.max(0, i - smoothTicks + 1);
    for (let j = from; j <= i; j++) {
      const x = ticks[j]!.subjects.get(key);
      if (x !== undefined) addInto(a, x);
    }
    const span = ((i - from + 1) * c.interval) / 1000;
    const g = signals(a, c.bounds, span);
    out.push({ t: Math.round(ticks[i]!.at / 1000), rps: g.rps, successRate: g.successRate, p50Ms: g.p50Ms, p99Ms: g.p99Ms });
  }
  return out;
}
