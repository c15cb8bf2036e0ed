// How a release workflow reads a backend's health: requests, failures and a latency histogram
// of the traffic callers sent to it, from the mesh's own metrics. One interface, so the
// control plane's aggregation can replace the scraping below.
import { TOKEN_ENV, type ApiClient } from '../api-client.js';
import { trustingFetch } from '../../common/trusting-fetch.js';
import { err, ok, type Result } from '../../common/result.js';
import type { WindowCoverage } from '../../api/telemetry.js';

/** Cumulative counters of the requests callers sent to one Service (over the whole mesh). */
export interface BackendSample {
  requests: number;
  /** Answers with status 5xx (the backend's or the proxies' own: connect failures, timeouts). */
  failures: number;
  /** Cumulative counts per upper bound in seconds (Prometheus `le`), ascending; +Inf is `requests`. */
  buckets: [number, number][];
}

/** One watch of a backend: `finish()` answers what callers saw between the watch and now. */
export interface BackendWatch {
  finish(): Promise<Result<Window, string>>;
}

export interface BackendMetrics {
  /** Where the figures come from, for the progress lines. */
  readonly source: string;
  /** Starts watching what callers send to `service.namespace`. */
  watch(service: string, namespace: string): Promise<Result<BackendWatch, string>>;
}

/** The operator token the CLI was given, for the telemetry API. */
function operatorAuth(): Record<string, string> {
  const token = process.env[TOKEN_ENV];
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Signals as the control plane's telemetry API answers them (GET /api/v1/telemetry/backends/{svc}). */
interface TelemetrySignals {
  requests: number;
  successRate: number | null;
  p99Ms: number | null;
}

/** A window with no figures: the source has no data for it (yet), which says nothing about the backend. */
const noData = (why: string): Window => ({ requests: 0, successRate: 1, p99: undefined, incomplete: why });

/** Why a window the telemetry API answered for is not complete, or undefined when it is (older control planes say nothing: complete). */
function coverageGap(c: WindowCoverage | undefined): string | undefined {
  if (c === undefined || c.fraction >= 1) return undefined;
  const shown = c.gaps.slice(0, 3).map((g) => `${g.proxy}: ${g.reason}`);
  const more = c.gaps.length > shown.length ? `, and ${c.gaps.length - shown.length} more` : '';
  return `the telemetry covers ${c.coveredSeconds.toFixed(1)} s of the last ${c.windowSeconds} s${shown.length ? ` (${shown.join('; ')}${more})` : ''}`;
}

/**
 * Reads the control plane's own aggregation (`/api/v1/telemetry/backends/{svc}?window=`): what
 * the callers' sidecars saw (clientSide) over the seconds since the watch began.
 */
export function telemetryApiMetrics(baseUrl: string, timeoutMs = 5000): BackendMetrics {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    source: "the control plane's telemetry",
    async watch(service, namespace) {
      const started = Date.now();
      return ok({
        async finish() {
          const seconds = Math.max(1, Math.ceil((Date.now() - started) / 1000));
          let res: Response;
          try {
            res = await trustingFetch()(`${base}/api/v1/telemetry/backends/${encodeURIComponent(`${service}.${namespace}`)}?window=${seconds}s`, {
              headers: operatorAuth(),
              signal: AbortSignal.timeout(timeoutMs),
            });
          } catch (e) {
            // A control plane that is restarting: no data, not a verdict on the backend.
            return ok(noData(`the telemetry API did not answer: ${(e as Error).message}`));
          }
          if (res.status === 502 || res.status === 503) return ok(noData(`the telemetry API answered ${res.status}`));
          if (!res.ok) return err(`the telemetry API answered ${res.status}`);
          const body = (await res.json()) as TelemetrySignals & { clientSide?: TelemetrySignals; coverage?: WindowCoverage };
          const s = body.clientSide && body.clientSide.requests > 0 ? body.clientSide : body;
          const incomplete = coverageGap(body.coverage);
          return ok({ requests: s.requests, successRate: s.successRate ?? 1, p99: s.p99Ms === null ? undefined : s.p99Ms / 1000, ...(incomplete ? { incomplete } : {}) });
        },
      });
    },
  };
}

/** The telemetry API when the control plane has it, else scraping the proxies. */
export async function defaultMetrics(client: ApiClient): Promise<BackendMetrics> {
  try {
    const res = await trustingFetch()(`${client.baseUrl}/api/v1/telemetry/backends/probe.default?window=1s`, { headers: operatorAuth(), signal: AbortSignal.timeout(3000) });
    if (res.ok) return telemetryApiMetrics(client.baseUrl);
  } catch {
    // No telemetry API: scrape.
  }
  return proxyScrapeMetrics(client);
}

const CLIENT_BUCKETS = 'http_client_request_duration_seconds_bucket';
const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Adds the outbound series of one proxy's Prometheus text for destination `label` into `into`. */
export function addFromPrometheusText(text: string, label: string, into: BackendSample): void {
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const name = m[1]!;
    // Requests by direction; latency of outbound requests (OpenTelemetry's http.client.request.duration).
    if (name !== 'trellis_requests_total' && name !== CLIENT_BUCKETS) continue;
    const labels: Record<string, string> = {};
    for (const l of m[2]!.matchAll(LABEL)) labels[l[1]!] = l[2]!;
    if ((name === 'trellis_requests_total' && labels.direction !== 'outbound') || labels.service !== label) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    if (name === 'trellis_requests_total') {
      into.requests += value;
      if (/^5\d\d$/.test(labels.code ?? '')) into.failures += value;
    } else if (labels.le !== '+Inf') {
      const le = Number(labels.le);
      const b = into.buckets.find(([bound]) => bound === le);
      if (b) b[1] += value;
      else into.buckets.push([le, value]);
    }
  }
  into.buckets.sort((a, b) => a[0] - b[0]);
}

/** One sample per proxy that answered, and the proxies that did not. */
export interface ProxySamples {
  answered: Map<string, BackendSample>;
  silent: string[];
}

/**
 * Reads every connected proxy's /metrics on its admin port (127.0.0.1: the CLI runs on the
 * proxies' host) and sums what callers sent to the Service. A window counts only the proxies
 * that answered both samples; when one did not, the window is incomplete and says which.
 */
export function proxyScrapeMetrics(client: ApiClient, timeoutMs = 3000): BackendMetrics {
  const sample = async (service: string, namespace: string): Promise<Result<ProxySamples, string>> => {
    const proxies = await client.proxies();
    if (!proxies.ok) return err(proxies.error.message);
    const out: ProxySamples = { answered: new Map(), silent: [] };
    const label = `${service}.${namespace}`;
    await Promise.all(
      proxies.value
        .filter((p) => p.connected && p.adminPort !== undefined)
        .map(async (p) => {
          try {
            const res = await fetch(`http://127.0.0.1:${p.adminPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            const one: BackendSample = { requests: 0, failures: 0, buckets: [] };
            addFromPrometheusText(await res.text(), label, one);
            out.answered.set(p.id, one);
          } catch {
            out.silent.push(p.id);
          }
        }),
    );
    return ok(out);
  };
  return {
    source: "the sidecars' /metrics",
    async watch(service, namespace) {
      const before = await sample(service, namespace);
      if (!before.ok) return before;
      return ok({
        async finish() {
          const after = await sample(service, namespace);
          if (!after.ok) return ok(noData(`the control plane did not list the proxies: ${after.error}`));
          return ok(windowOfProxies(before.value, after.value));
        },
      });
    },
  };
}

/** The window of the proxies sampled at both ends; incomplete when a proxy was missing from either. */
export function windowOfProxies(before: ProxySamples, after: ProxySamples): Window {
  const a: BackendSample = { requests: 0, failures: 0, buckets: [] };
  const b: BackendSample = { requests: 0, failures: 0, buckets: [] };
  // Silent at the end, silent at the start, or gone by the end (its last requests unseen).
  const missing = new Set(after.silent);
  for (const id of before.silent) if (after.answered.has(id)) missing.add(id);
  for (const id of before.answered.keys()) if (!after.answered.has(id)) missing.add(id);
  for (const [id, end] of after.answered) {
    if (missing.has(id)) continue;
    // A proxy that joined within the window has no start sample: all its counts are new.
    const start = before.answered.get(id);
    if (start !== undefined) addSample(a, start);
    addSample(b, end);
  }
  const w = windowBetween(a, b);
  if (missing.size === 0) return w;
  const names = [...missing].sort().join(', ');
  return { ...w, incomplete: `${missing.size === 1 ? `proxy ${names} was` : `proxies ${names} were`} not sampled at both ends of the window` };
}

function addSample(into: BackendSample, s: BackendSample): void {
  into.requests += s.requests;
  into.failures += s.failures;
  for (const [le, n] of s.buckets) {
    const x = into.buckets.find(([bound]) => bound === le);
    if (x) x[1] += n;
    else into.buckets.push([le, n]);
  }
  into.buckets.sort((x, y) => x[0] - y[0]);
}

/** What happened between two samples. */
export interface Window {
  requests: number;
  /** 1 when there were no requests. */
  successRate: number;
  /** Upper bound (seconds) of the bucket holding the 99th percentile; undefined without requests. */
  p99: number | undefined;
  /** Set when the source did not see all of the window (what is missing): its figures must not be judged. */
  incomplete?: string;
}

export function windowBetween(a: BackendSample, b: BackendSample): Window {
  const requests = b.requests - a.requests;
  const failures = b.failures - a.failures;
  if (requests <= 0) return { requests: 0, successRate: 1, p99: undefined };
  const target = requests * 0.99;
  let p99: number | undefined = Number.POSITIVE_INFINITY;
  for (const [le, count] of b.buckets) {
    const before = a.buckets.find(([x]) => x === le)?.[1] ?? 0;
    if (count - before >= target) {
      p99 = le;
      break;
    }
  }
  return { requests, successRate: (requests - failures) / requests, p99 };
}
