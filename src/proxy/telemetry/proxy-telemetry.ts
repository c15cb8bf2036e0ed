// What the telemetry layers of one proxy share: who the proxy is (service, workload: the
// source of its outbound requests and the destination of its inbound ones), the span
// exporter, the access log writer and the tap hub. One per sidecar.
import type { Logger } from '../../common/log.js';
import { parseSpiffeId } from '../../xds/spiffe.js';
import type { ListenerTelemetry } from '../config/runtime-config.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { SpanResource } from '../tracing/span.js';
import { SpanExporter, type SpanExporterOptions } from '../tracing/span-exporter.js';
import { AccessLogWriter } from './access-log.js';
import { TapHub } from './tap-hub.js';

/** The header an outbound proxy sets so the inbound one knows the caller: `<service>.<namespace>/<workload>`. */
export const SOURCE_HEADER = 'x-trellis-source';

/** The proxy's own identity for labels, spans and logs. */
export interface ProxyIdentity {
  /** `name.namespace`, as cluster service labels are. */
  readonly service: string;
  readonly serviceName: string;
  readonly namespace: string;
  /** `<service>-<version label>`, or the service name when there is no version label. */
  readonly workload: string;
  /** The xDS node id. */
  readonly nodeId: string;
}

export { workloadName } from '../../api/telemetry.js';

export interface ProxyTelemetryOptions {
  identity: ProxyIdentity;
  metrics?: ProxyMetrics;
  /** Where access log lines go: a file descriptor (default 1, stdout) or a path. */
  accessLogTarget?: number | string;
  /** The mesh roots (PEM), so spans reach the control plane's HTTPS receiver. */
  collectorCa?: string;
  /** The workload's TLS material, presented to https collectors (see SpanExporterOptions.clientTls). */
  collectorClientTls?: SpanExporterOptions['clientTls'];
  /**
   * The control plane's span receiver socket, when the proxy reaches xDS over a Unix socket:
   * spans for the control plane's own receiver go there instead of to its TCP address.
   */
  controlPlaneSpanSocket?: string;
  logger?: Logger;
}

/** Most distinct callers an inbound proxy labels separately; later ones are "unknown". */
export const MAX_SOURCES = 64;

/** Who called, as the inbound metrics, logs and spans report it. */
export interface CallerSource {
  readonly service: string;
  readonly workload: string;
  /** True when `service` is the caller's mTLS identity; false when it is only what the caller claims. */
  readonly authenticated: boolean;
}

/** An mTLS caller's service (from its SPIFFE ID) and the header values already judged for it. */
interface PeerSources {
  readonly service: string;
  /** The caller with workload "unknown": no header, or one naming another service. */
  readonly anonymous: CallerSource;
  readonly byHeader: Map<string, CallerSource>;
}

export class ProxyTelemetry {
  readonly identity: ProxyIdentity;
  readonly tap = new TapHub();
  readonly accessLog: AccessLogWriter;
  /** Value of SOURCE_HEADER on this proxy's outbound requests. */
  readonly sourceHeader: string;
  private exporterInstance: SpanExporter | undefined;
  /** `unix:` and the control plane's span socket, built once rather than per request. */
  private readonly controlPlaneSocketCollector: string | undefined;
  private readonly sources = new Map<string, CallerSource>();
  private readonly peers = new Map<string, PeerSources>();

  constructor(private readonly opts: ProxyTelemetryOptions) {
    this.identity = opts.identity;
    this.sourceHeader = `${opts.identity.service}/${opts.identity.workload}`;
    this.accessLog = new AccessLogWriter(opts.accessLogTarget ?? 1);
    this.controlPlaneSocketCollector = opts.controlPlaneSpanSocket !== undefined ? `unix:${opts.controlPlaneSpanSocket}` : undefined;
    const m = opts.metrics;
    if (m !== undefined) {
      m.setTarget(this.resource());
      m.addCount('spans_exported', 'spans sent to a collector', () => this.exporterInstance?.counts.exported ?? 0);
      m.addCount('spans_dropped', 'spans dropped (queue full or collector failed)', () => this.exporterInstance?.counts.dropped ?? 0);
      m.addCount('access_log_lines', 'access log lines written', () => this.accessLog.written);
      m.addCount('access_log_dropped', 'access log lines dropped (buffer full)', () => this.accessLog.dropped);
      m.addCount('tap_events', 'tap events sent to subscribers', () => this.tap.sent);
      m.addCount('tap_dropped', 'tap events dropped for subscribers that did not keep up', () => this.tap.dropped);
    }
  }

  /** Who this proxy is as OpenTelemetry resource attributes (span resource and metrics' target_info). */
  private resource(): SpanResource {
    return {
      'service.name': this.identity.serviceName,
      'service.namespace': this.identity.namespace,
      'service.instance.id': this.identity.nodeId,
      'trellis.workload': this.identity.workload,
    };
  }

  /** The span exporter, created on the first sampled span. */
  get exporter(): SpanExporter {
    return (this.exporterInstance ??= new SpanExporter({
      resource: this.resource(),
      ...(this.opts.logger !== undefined ? { logger: this.opts.logger } : {}),
      ...(this.opts.collectorCa !== undefined ? { ca: this.opts.collectorCa } : {}),
      ...(this.opts.collectorClientTls !== undefined ? { clientTls: this.opts.collectorClientTls } : {}),
    }));
  }

  /** Where a listener's spans go: its collector's URL, or `unix:PATH` for the control plane's receiver on its socket; undefined: no export. */
  collectorFor(t: ListenerTelemetry | undefined): string | undefined {
    if (t?.collector === undefined) return undefined;
    return t.collectorIsControlPlane === true && this.controlPlaneSocketCollector !== undefined ? this.controlPlaneSocketCollector : t.collector;
  }

  /**
   * A plaintext caller, named only by its own SOURCE_HEADER value: kept (so PERMISSIVE and
   * transparent-mode traffic stays visible) but `authenticated: false`. Bounded: at most
   * MAX_SOURCES distinct values, later ones are "unknown".
   */
  source(header: string | undefined): CallerSource {
    if (header === undefined) return UNKNOWN_SOURCE;
    let s = this.sources.get(header);
    if (s !== undefined) return s;
    const slash = header.indexOf('/');
    if (slash <= 0 || slash === header.length - 1 || this.sources.size >= MAX_SOURCES || header.length > 253) return UNKNOWN_SOURCE;
    s = { service: header.slice(0, slash), workload: header.slice(slash + 1), authenticated: false };
    this.sources.set(header, s);
    return s;
  }

  /**
   * An mTLS caller: the service is `<sa>.<ns>` of its SPIFFE ID `spiffe://<td>/ns/<ns>/sa/<sa>`
   * (the CA signs a proxy's service as its service account). SOURCE_HEADER may add only the
   * workload, and only when its service part is that same service; otherwise workload "unknown".
   * Bounded: MAX_SOURCES peers, MAX_SOURCES header values per peer; beyond, "unknown".
   */
  peerSource(peer: string, header: string | undefined): CallerSource {
    let p = this.peers.get(peer);
    if (p === undefined) {
      if (this.peers.size >= MAX_SOURCES) return UNKNOWN_PEER;
      const id = parseSpiffeId(peer);
      const service = id === undefined ? 'unknown' : `${id.serviceAccount}.${id.namespace}`;
      p = { service, anonymous: id === undefined ? UNKNOWN_PEER : { service, workload: 'unknown', authenticated: true }, byHeader: new Map() };
      this.peers.set(peer, p);
    }
    if (header === undefined) return p.anonymous;
    let s = p.byHeader.get(header);
    if (s !== undefined) return s;
    if (p.byHeader.size >= MAX_SOURCES) return p.anonymous;
    const slash = header.indexOf('/');
    const claimsPeer = slash === p.service.length && slash < header.length - 1 && header.length <= 253 && header.startsWith(p.service) && p.service !== 'unknown';
    // A mismatch is cached too, so a forging client costs one look-up per request.
    s = claimsPeer ? { service: p.service, workload: header.slice(slash + 1), authenticated: true } : p.anonymous;
    p.byHeader.set(header, s);
    return s;
  }

  /** Sends what is queued and closes the access log. */
  async close(): Promise<void> {
    await this.exporterInstance?.close();
    await this.accessLog.close();
  }
}

export const UNKNOWN_SOURCE: CallerSource = { service: 'unknown', workload: 'unknown', authenticated: false };
/** An mTLS caller whose SPIFFE ID is not a Trellis one, or one past the bound. */
const UNKNOWN_PEER: CallerSource = { service: 'unknown', workload: 'unknown', authenticated: true };

/** A telemetry object for tests and tools that do not care who the proxy is. */
export function anonymousTelemetry(metrics?: ProxyMetrics): ProxyTelemetry {
  return new ProxyTelemetry({
    identity: { service: 'unknown', serviceName: 'unknown', namespace: 'default', workload: 'unknown', nodeId: 'unknown' },
    ...(metrics !== undefined ? { metrics } : {}),
  });
}
