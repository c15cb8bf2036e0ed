// The proxy's admin listener (node:http, not listening until the caller says where):
//   GET /ready        200 "ready" | 503 "not ready: <reason>"
//   GET /config_dump  the config in effect, as JSON
//   GET /metrics      Prometheus text exposition
//   GET /stats        pools and in-flight counts, as JSON (when `stats` is given)
//   GET /stats/requests  cumulative request stats per label set, as JSON (what the control plane collects)
//   GET /tap?service=&path=&method=&status=  live request metadata as server-sent events (when `tap` is given)
//   POST /drain       withdraws the endpoint and drains inbound connections; answers once done (when `drain` is given)
import type * as Http from 'node:http';
import { http } from '../../common/node-http.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { requestStatsJson } from '../metrics/request-stats-json.js';
import { parseTapFilter, type TapHub } from '../telemetry/tap-hub.js';
import { BoundedEventStream } from '../../common/bounded-event-stream.js';

/** What readiness can say: a bare boolean, or a verdict with the reason when not ready. */
export type Readiness = boolean | { readonly ok: boolean; readonly reason?: string };

export interface AdminServerOptions {
  ready(): Readiness;
  configDump(): unknown;
  metrics: ProxyMetrics;
  stats?(): unknown;
  tap?: TapHub;
  /** Shutdown's first step (`trellis run` calls it before stopping the app); resolves once inbound has drained. */
  drain?(): Promise<void>;
}

/** Comment lines on an idle tap stream, so proxies in between keep it open. */
const TAP_HEARTBEAT_MS = 15_000;

/** The admin server; call `listen(port, '127.0.0.1')` on it. */
export function createAdminServer(opts: AdminServerOptions): Http.Server {
  return http.createServer((req, res) => {
    void handle(opts, req, res).catch((e: unknown) => send(res, 500, 'text/plain; charset=utf-8', `admin error: ${e instanceof Error ? e.message : String(e)}\n`));
  });
}

async function handle(opts: AdminServerOptions, req: Http.IncomingMessage, res: Http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/drain' && req.method === 'POST' && opts.drain) {
    await opts.drain();
    send(res, 200, 'text/plain; charset=utf-8', 'drained\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed; the admin endpoints answer GET\n`, { allow: 'GET, HEAD' });
    return;
  }
  switch (path) {
    case '/stats/requests':
      send(res, 200, 'application/json', JSON.stringify(requestStatsJson(opts.metrics)) + '\n');
      return;
    case '/tap':
      if (opts.tap) {
        serveTap(opts.tap, req, res);
        return;
      }
      break;
    case '/ready': {
      const r = opts.ready();
      const ok = typeof r === 'boolean' ? r : r.ok;
      const reason = typeof r === 'boolean' ? 'not ready' : (r.reason ?? 'not ready');
      send(res, ok ? 200 : 503, 'text/plain; charset=utf-8', ok ? 'ready\n' : `not ready: ${reason}\n`);
      return;
    }
    case '/config_dump':
      send(res, 200, 'application/json', JSON.stringify(opts.configDump(), jsonReplacer, 2) + '\n');
      return;
    case '/metrics':
      send(res, 200, opts.metrics.contentType, await opts.metrics.text());
      return;
    case '/stats':
      if (opts.stats) {
        send(res, 200, 'application/json', JSON.stringify(opts.stats(), jsonReplacer, 2) + '\n');
        return;
      }
      break;
  }
  send(
    res,
    404,
    'text/plain; charset=utf-8',
    `no admin endpoint ${path}; try /ready, /config_dump, /metrics, /stats/requests${opts.stats ? ', /stats' : ''}${opts.tap ? ', /tap' : ''}\n`,
  );
}

function serveTap(hub: TapHub, req: Http.IncomingMessage, res: Http.ServerResponse): void {
  const filter = parseTapFilter(new URL(req.url ?? '/', 'http://admin.invalid').searchParams);
  if (!filter.ok) {
    send(res, 400, 'text/plain; charset=utf-8', filter.error + '\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(': tap started\n\n');
  // Bounded per subscriber: one that does not read loses events (counted), never the proxy's memory.
  const stream = new BoundedEventStream(res);
  const stop = hub.subscribe(filter.value, (e) => stream.send(() => JSON.stringify(e)));
  const heartbeat = setInterval(() => stream.comment('heartbeat'), TAP_HEARTBEAT_MS);
  res.on('close', () => {
    stop();
    clearInterval(heartbeat);
  });
}

function send(res: Http.ServerResponse, status: number, contentType: string, body: string, extra: Http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Maps become objects, Sets arrays, RegExps their source (SafeRegex has toJSON): a RuntimeConfig dumps readably. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof RegExp) return value.source;
  return value;
}
