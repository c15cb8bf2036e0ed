// The control plane's own metrics, served as Prometheus text on GET /metrics of the API port
// (behind the API's tokens, like every route but /healthz): connected proxies by kind and how
// many are out of sync or refusing config, xDS pushes (latency, size, NACKs), snapshot
// computation, the store's revision and write latency, CA signings, and API requests by route,
// method and status. Counts are plain numbers or histograms with fixed label sets.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyStatus } from '../../api/proxy-status.js';
// The package index (the control plane is not memory-bound as a sidecar is).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeKind } from '../../xds/node-metadata.js';
import { SERVED_TYPES_IN_ORDER, type ServedTypeUrl } from '../../xds/type-urls.js';
import { XDS_TYPE_LABELS, type XdsMetrics } from '../xds-server/xds-metrics.js';
import { apiRouteLabel, methodLabel } from './api-route-label.js';

export interface ControlPlaneMetricsSources {
  proxies(): readonly ProxyStatus[];
  storeRevision(): number;
  caSigned(): number;
}

type ProxyLabels = 'kind' | 'state';

const KINDS: readonly NodeKind[] = ['sidecar', 'grpc'];
const TYPES = SERVED_TYPES_IN_ORDER.map((t) => XDS_TYPE_LABELS[t]);
// From the debounce window (20 ms) and a CSR signature up to a proxy that answers slowly.
const PUSH_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SNAPSHOT_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
// Up to XDS_MAX_MESSAGE_BYTES and beyond, by factors of four.
const RESPONSE_BYTES = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
// A batch is durable after an fsync of the log: milliseconds on a disk, more on a busy one.
const STORE_WRITE_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** `sidecar` for Trellis and Envoy proxies, `grpc` for proxyless gRPC applications. */
const kindOf = (p: ProxyStatus): string => p.kind ?? 'sidecar';
const sameVersions = (a: ProxyStatus['versions'], b: ProxyStatus['versions'] | undefined): boolean =>
  b === undefined || (a.listeners === b.listeners && a.routes === b.routes && a.clusters === b.clusters && a.endpoints === b.endpoints);

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  /** `route method status` -> count. */
  private readonly requests = new Map<string, number>();
  /** What the xDS server reports (XdsServerDeps.metrics). */
  readonly xds: XdsMetrics;
  readonly #storeWrites: Histogram;

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
    this.xds = this.#xdsMetrics();
    this.#storeWrites = new Histogram({
      name: 'trellis_control_plane_store_write_duration_seconds',
      help: "Batches the REST API committed to the store: seconds from the API's call until the batch was durable (dry runs and batches that changed nothing are not counted).",
      buckets: STORE_WRITE_SECONDS,
      registers: [this.registry],
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

  /** A batch was committed and durable `seconds` after the API asked for it. */
  observeStoreWrite(seconds: number): void {
    this.#storeWrites.observe(seconds);
  }

  #xdsMetrics(): XdsMetrics {
    const registers = [this.registry];
    const push = new Histogram<'type' | 'kind'>({
      name: 'trellis_control_plane_xds_push_duration_seconds',
      help: 'Seconds from a change reaching the xDS server (a committed resource change, a workload joining or leaving, a certificate issued) to the DiscoveryResponse carrying it being written to a proxy, by type (cds, eds, lds, rds, sds) and proxy kind (sidecar, grpc).',
      labelNames: ['type', 'kind'],
      buckets: PUSH_SECONDS,
      registers,
    });
    const bytes = new Histogram<'type'>({
      name: 'trellis_control_plane_xds_push_bytes',
      help: 'Encoded size of each DiscoveryResponse written, by type.',
      labelNames: ['type'],
      buckets: RESPONSE_BYTES,
      registers,
    });
    const snapshot = new Histogram<'kind'>({
      name: 'trellis_control_plane_xds_snapshot_duration_seconds',
      help: "Seconds to compute one proxy's config snapshot from the mesh state, by proxy kind.",
      labelNames: ['kind'],
      buckets: SNAPSHOT_SECONDS,
      registers,
    });
    const responses = new Counter<'type'>({
      name: 'trellis_control_plane_xds_responses_total',
      help: 'DiscoveryResponses written to proxies, by type.',
      labelNames: ['type'],
      registers,
    });
    const nacks = new Counter<'type'>({ name: 'trellis_control_plane_xds_nacks_total', help: 'Responses proxies refused (NACK), by type.', labelNames: ['type'], registers });
    // Every series exists from the start, so rates and alerts see a zero rather than nothing.
    for (const type of TYPES) {
      bytes.zero({ type });
      responses.inc({ type }, 0);
      nacks.inc({ type }, 0);
      for (const kind of KINDS) push.zero({ type, kind });
    }
    for (const kind of KINDS) snapshot.zero({ kind });
    const type = (t: ServedTypeUrl) => XDS_TYPE_LABELS[t];
    return {
      responseSent(t, n) {
        bytes.observe({ type: type(t) }, n);
        responses.inc({ type: type(t) });
      },
      pushed: (t, kind, seconds) => push.observe({ type: type(t), kind }, seconds),
      nacked: (t) => nacks.inc({ type: type(t) }),
      snapshotComputed: (kind, seconds) => snapshot.observe({ kind }, seconds),
    };
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
