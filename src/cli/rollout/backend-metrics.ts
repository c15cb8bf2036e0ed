// How a release workflow reads a backend's health: requests, failures and a latency histogram
// of the traffic callers sent to it, from the mesh's own metrics. One interface, so the
// control plane's aggregation can replace the scraping below.
import { TOKEN_ENV, type ApiClient } from '../api-client.js';
import { trustingFetch } from '../../common/trusting-fetch.js';
import { err, ok, type Result } from '../../common/result.js';

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
            return err(`the telemetry API did not answer: ${(e as Error).message}`);
          }
          if (!res.ok) return err(`the telemetry API answered ${res.status}`);
          const body = (await res.json()) as TelemetrySignals & { clientSide?: TelemetrySignals };
          const s = body.clientSide && body.clientSide.requests > 0 ? body.clientSide : body;
          return ok({ requests: s.requests, successRate: s.successRate ?? 1, p99: s.p99Ms === null ? undefined : s.p99Ms / 1000 });
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

/**
 * Reads every connected proxy's /metrics on its admin port (127.0.0.1: the CLI runs on the
 * proxies' host) and sums what callers sent to the Service. Proxies that do not answer are
 * left out of the sum.
 */
export function proxyScrapeMetrics(client: ApiClient, timeoutMs = 3000): BackendMetrics {
  const sample = async (service: string, namespace: string): Promise<Result<BackendSample, string>> => {
    {
      const proxies = await client.proxies();
      if (!proxies.ok) return err(proxies.error.message);
      const out: BackendSample = { requests: 0, failures: 0, buckets: [] };
      const label = `${service}.${namespace}`;
      await Promise.all(
        proxies.value
          .filter((p) => p.connected && p.adminPort !== undefined)
          .map(async (p) => {
            try {
              const res = await fetch(`http://127.0.0.1:${p.adminPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
              if (res.ok) addFromPrometheusText(await res.text(), label, out);
            } catch {
              // A proxy that is gone or busy is left out of this sample.
            }
          }),
      );
      return ok(out);
    }
  };
  return {
    source: "the sidecars' /metrics",
    async watch(service, namespace) {
      const before = await sample(service, namespace);
      if (!before.ok) return before;
      return ok({
        async finish() {
          const after = await sample(service, namespace);
          return after.ok ? ok(windowBetween(before.value, after.value)) : after;
        },
      });
    },
  };
}

/** What happened between two samples. */
export interface Window {
  requests: number;
  /** 1 when there were no requests. */
  successRate: number;
  /** Upper bound (seconds) of the bucket holding the 99th percentile; undefined without requests. */
  p99: number | undefined;
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
