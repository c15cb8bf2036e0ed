// The control plane's telemetry endpoints, beside the resource REST API on the same port:
//   POST /v1/traces                                   OTLP/HTTP receiver, JSON or protobuf (kept, and forwarded when configured)
//   GET  /api/v1/telemetry/stat?window=60s            golden signals per service, workload and edge
//   GET  /api/v1/telemetry/topology?window=60s        services and the edges between them
//   GET  /api/v1/telemetry/services/{svc}?window=     one service: signals, workloads, edges, history, proxies
//   GET  /api/v1/telemetry/backends/{svc}[/{workload}]?window=30s   success rate and p99 (canary analysis)
//   GET  /api/v1/traces?limit=&service=  |  /api/v1/traces/{traceId}
//   GET  /api/v1/tap/{svc}?path=&method=&status=      live tap (server-sent events)
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyStatus } from '../../api/proxy-status.js';
import type { Logger } from '../../common/log.js';
import { backend, history, qualify, stat, topology } from './golden-views.js';
import { receiveSpans, type SpanForwarding } from './otlp-receiver.js';
import type { SpanStore } from './span-store.js';
import type { StatsCollector } from './stats-collector.js';
import { relayTap } from './tap-relay.js';

export interface TelemetryApiDeps {
  collector: StatsCollector;
  spans: SpanStore;
  proxies(): ProxyStatus[];
  /** A collector the received spans are also sent to, and how. */
  forward?: SpanForwarding;
  logger?: Logger;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function problem(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

/** `60`, `60s`, `5m`: seconds from 1 to what the collector keeps. */
export function parseWindow(v: string | null, maxSeconds: number, fallback: number): { ok: true; value: number } | { ok: false; error: string } {
  if (v === null) return { ok: true, value: fallback };
  const m = /^(\d+)(s|m)?$/.exec(v);
  const seconds = m === null ? NaN : Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  if (!(seconds >= 1 && seconds <= maxSeconds)) return { ok: false, error: `window=${v} is not valid: expected seconds (30, 30s) or minutes (5m) from 1 s to ${maxSeconds} s` };
  return { ok: true, value: seconds };
}

/** A handler that answers the telemetry paths and returns false for every other path. */
export function createTelemetryApi(deps: TelemetryApiDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const maxWindow = () => Math.max(10, Math.floor(((deps.collector.ticks.length + 1) * deps.collector.interval) / 1000), 600);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://trellis.invalid');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (path === '/v1/traces') {
      if (method !== 'POST') return (problem(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on /v1/traces; allowed: POST`), true);
      receiveSpans(deps.spans, req, res, deps.forward, deps.logger);
      return true;
    }
    const isTelemetry = path.startsWith('/api/v1/telemetry/') || path === '/api/v1/traces' || path.startsWith('/api/v1/traces/') || path.startsWith('/api/v1/tap/');
    if (!isTelemetry) return false;
    if (method !== 'GET') return (problem(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; allowed: GET`), true);
    const seg = path
      .split('/')
      .slice(3)
      .map((p) => decodeURIComponent(p));
    const win = parseWindow(url.searchParams.get('window'), maxWindow(), seg[0] === 'telemetry' && seg[1] === 'backends' ? 30 : 60);
    if (!win.ok) return (problem(res, 400, 'BAD_REQUEST', win.error), true);
    const proxies = deps.proxies();
    if (seg[0] === 'telemetry') {
      const [, what, a, b] = seg;
      if (what === 'stat' && a === undefined) {
        const { callers: _callers, ...answer } = stat(deps.collector, win.value, proxies);
        return (json(res, 200, answer), true);
      }
      if (what === 'topology' && a === undefined) return (json(res, 200, topology(deps.collector, win.value, proxies)), true);
      if (what === 'services' && a !== undefined && b === undefined) {
        const svc = qualify(a);
        const s = stat(deps.collector, win.value, proxies);
        const service = s.services.find((x) => x.service === svc);
        if (service === undefined) return (problem(res, 404, 'NOT_FOUND', `no service ${svc} is registered or has traffic`), true);
        const seconds = parseWindow(url.searchParams.get('history'), maxWindow(), 300);
        if (!seconds.ok) return (problem(res, 400, 'BAD_REQUEST', seconds.error.replace('window=', 'history=')), true);
        return (
          json(res, 200, {
            ...service,
            windowSeconds: win.value,
            workloads: s.workloads.filter((w) => w.service === svc),
            inbound: s.callers.filter((e) => e.destination === svc),
            outbound: s.edges.filter((e) => e.source === svc),
            history: history(deps.collector, svc, seconds.value),
            proxies: proxies.filter((p) => `${p.service}.${p.namespace}` === svc),
          }),
          true
        );
      }
      if (what === 'backends' && a !== undefined && seg.length <= 4) return (json(res, 200, backend(deps.collector, win.value, a, b)), true);
      return (
        problem(res, 404, 'NOT_FOUND', `no telemetry route for ${path}; expected /api/v1/telemetry/{stat|topology|services/{service}|backends/{service}[/{workload}]}`),
        true
      );
    }
    if (seg[0] === 'traces') {
      if (seg.length === 1) {
        const limit = Number(url.searchParams.get('limit') ?? 50);
        if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
          return (problem(res, 400, 'BAD_REQUEST', `limit=${url.searchParams.get('limit')} is not valid: expected an integer from 1 to 1000`), true);
        const service = url.searchParams.get('service') ?? undefined;
        return (json(res, 200, { items: deps.spans.list(limit, service) }), true);
      }
      const spans = seg.length === 2 ? deps.spans.trace(seg[1]!) : undefined;
      if (spans === undefined) return (problem(res, 404, 'NOT_FOUND', `no trace ${seg[1]} is held (the control plane keeps the most recent ones)`), true);
      const { complete, roots } = deps.spans.summary(seg[1]!)!;
      return (json(res, 200, { traceId: seg[1]!.toLowerCase(), complete, roots, spans }), true);
    }
    if (seg[0] === 'tap' && seg.length === 2) {
      relayTap(seg[1]!, url, proxies, req, res);
      return true;
    }
    problem(res, 404, 'NOT_FOUND', `no route for ${path}`);
    return true;
  };
}
