// Reading the control plane's telemetry endpoints (stat, topology, traces, tap) for the
// observability commands; errors are one clear line each, as the resource client's are.
import type { StatAnswer } from '../api/telemetry.js';
import { trustingFetch } from '../common/trusting-fetch.js';
import { err, ok, type Result } from '../common/result.js';
import { connectionProblem, TOKEN_ENV } from './api-client.js';

export interface TelemetryClient {
  readonly baseUrl: string;
  getJson<T>(path: string): Promise<Result<T, string>>;
  stat(windowSeconds: number): Promise<Result<StatAnswer, string>>;
  /** Opens the tap stream of `service`; resolves once it answered (or failed). */
  tap(service: string, filters: Record<string, string>, signal: AbortSignal): Promise<Result<AsyncIterable<Record<string, unknown>>, string>>;
}

export function createTelemetryClient(baseUrl: string, timeoutMs = 10_000): TelemetryClient {
  const base = baseUrl.replace(/\/+$/, '');
  // The operator token, as the resource client sends it: /api/v1/proxies needs one.
  const token = process.env[TOKEN_ENV];
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const fetch = trustingFetch();
  const unreachable = (e: unknown) => {
    const why = connectionProblem(e);
    return `cannot reach the control plane at ${base}: ${why}${why === 'connection refused' ? ' (is `trellis control-plane` running?)' : ''}`;
  };
  async function getJson<T>(path: string): Promise<Result<T, string>> {
    let res: Response;
    try {
      res = await fetch(base + path, { headers: { accept: 'application/json', ...auth }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      return err(unreachable(e));
    }
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return err(`the control plane at ${base} answered GET ${path} with HTTP ${res.status} and a body that is not JSON`);
    }
    if (!res.ok) return err((body as { error?: { message?: string } }).error?.message ?? `HTTP ${res.status} from GET ${path}`);
    return ok(body as T);
  }
  return {
    baseUrl: base,
    getJson,
    stat: (w) => getJson<StatAnswer>(`/api/v1/telemetry/stat?window=${w}`),
    async tap(service, filters, signal) {
      let res: Response;
      try {
        res = await fetch(`${base}/api/v1/tap/${encodeURIComponent(service)}?${new URLSearchParams(filters).toString()}`, {
          headers: { accept: 'text/event-stream', ...auth },
          signal,
        });
      } catch (e) {
        return err(unreachable(e));
      }
      if (!res.ok || res.body === null) {
        const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
        return err(body.error?.message ?? `HTTP ${res.status} from the tap of ${service}`);
      }
      return ok(events(res.body));
    },
  };
}

/** The `data:` payloads of a server-sent event stream, parsed as JSON; a named event's name comes as `event` (`dropped`, `problem`). */
async function* events(body: ReadableStream<Uint8Array>): AsyncIterable<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let event: string | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) yield { ...(JSON.parse(line.slice(6)) as Record<string, unknown>), ...(event !== undefined ? { event } : {}) };
      }
    }
  }
}
