// The control plane's own metrics, served as Prometheus text on GET /metrics of the API port
// (behind the API's tokens, like every route but /healthz): connected proxies by kind and how
// many are out of sync or refusing config, the store's revision, CA signings, and API requests
// by route, method and status. Counted as plain numbers, turned into series at scrape time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyStatus } from '../../api/proxy-status.js';
// The package index (the control plane is not memory-bound as a sidecar is).
import { Counter, Gauge, Registry } from 'prom-client';
import { apiRouteLabel, methodLabel } from './api-route-label.js';

export interface ControlPlaneMetricsSources {
  proxies(): readonly ProxyStatus[];
  storeRevision(): number;
  caSigned(): number;
}

type ProxyLabels = 'kind' | 'state';

/** `sidecar` for Trellis and Envoy proxies, `grpc` for proxyless gRPC applications. */
const kindOf = (p: ProxyStatus): string => p.kind ?? 'sidecar';
const sameVersions = (a: ProxyStatus['versions'], b: ProxyStatus['versions'] | undefined): boolean =>
  b === undefined || (a.listeners === b.listeners && a.routes === b.routes && a.clusters === b.clusters && a.endpoints === b.endpoints);

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  /** `route method status` -> count. */
  private readonly requests = new Map<string, number>();

  constructor(src: ControlPlaneMetricsSources) {
    new Gauge<ProxyLabels>({
      name: 'trellis_control_plane_proxies',
      help: 'Proxies known to the control plane, by kind (sidecar, grpc) and state: connected, disconnected (kept through their grace period), out_of_sync (connected, not on the config computed for them), nacking (connected, out of sync, with NACKs in their recent history).',
      labelNames: ['kind', 'state'],
      registers: [this.registry],
      collect(this: Gauge<ProxyLabels>) {
        this.reset();
        for (const kind of ['sidecar', 'grpc']) for (const state of ['connected', 'disconnected', 'out_of_sync', 'nacking']) this.set({ kind, state }, 0);
        for (const p of src.proxies()) {
          const kind = kindOf(p);
          this.inc({ kind, state: p.connected ? 'connected' : 'disconnected' });
          if (!p.connected) continue;
          if (!sameVersions(p.versions, p.current)) this.inc({ kind, state: 'out_of_sync' });
          if (p.nacks.length > 0 && !sameVersions(p.versions, p.current)) this.inc({ kind, state: 'nacking' });
        }
      },
    });
    new Gauge({
      name: 'trellis_control_plane_proxy_nacks',
      help: 'NACKs in the recent history the control plane keeps per connected proxy (at most 20 each), summed.',
      registers: [this.registry],
      collect(this: Gauge<string>) {
        let n = 0;
        for (const p of src.proxies()) if (p.connected) n += p.nacks.length;
        this.set(n);
      },
    });
    new Gauge({
      name: 'trellis_control_plane_store_revision',
      help: "The store's current revision (it grows by one per committed write).",
      registers: [this.registry],
      collect(this: Gauge<string>) {
        this.set(src.storeRevision());
      },
    });
    new Counter({
      name: 'trellis_control_plane_ca_certificates_signed_total',
      help: 'Certificates the mesh CA signed since the control plane started (workload and serving certificates).',
      registers: [this.registry],
      collect(this: Counter<string>) {
        this.reset();
        this.inc(src.caSigned());
      },
    });
    const requests = this.requests;
    new Counter<'route' | 'method' | 'code'>({
      name: 'trellis_control_plane_api_requests_total',
      help: 'Requests to the API port, by route (REST route and resource kind, telemetry, tap, traces, ca, tokens, otlp_traces, metrics, healthz, dashboard, unknown), method and status.',
      labelNames: ['route', 'method', 'code'],
      registers: [this.registry],
      collect(this: Counter<'route' | 'method' | 'code'>) {
        this.reset();
        for (const [key, n] of requests) {
          const [route, method, code] = key.split(' ') as [string, string, string];
          this.inc({ route, method, code }, n);
        }
      },
    });
  }

  /** Counts one API request when its response is over (the control plane's API is no hot path). */
  observe(req: IncomingMessage, res: ServerResponse): void {
    const route = apiRouteLabel(new URL(req.url ?? '/', 'http://trellis.invalid').pathname);
    const method = methodLabel(req.method);
    res.once('close', () => {
      const key = `${route} ${method} ${res.statusCode}`;
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    });
  }

  /** Serves GET /metrics; false for any other request. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if ((req.url ?? '').split('?')[0] !== '/metrics') return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' }).end('GET /metrics only\n');
      return true;
    }
    this.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
    return true;
  }
}
