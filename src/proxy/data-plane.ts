// The data plane: runs listeners, routers, balancers and pools from an immutable RuntimeConfig
// and swaps them atomically on apply(). Listeners whose protocol, address and port stay are
// kept bound and see the new config; gone ones drain; a bind failure is reported per listener
// and leaves the others alone. Endpoint pools live as long as some cluster lists the endpoint.
import type { Logger } from '../common/log.js';
import { EMPTY_CONFIG, type CaptureListenerConfig, type Direction, type ListenerConfig, type RuntimeConfig } from './config/runtime-config.js';
import { buildSnapshot, chainBackends, tcpBackends, type ClusterState, type HttpListenerScope, type PlaneSnapshot, type TcpListenerScope } from './data-plane-snapshot.js';
import type { WeightedChoice } from './balancer/index.js';
import { CaptureListener, type CaptureListenerScope } from './listeners/capture-listener.js';
import type { ProxyErrorCode } from './errors.js';
import { buildInboundStack } from './http/inbound-stack.js';
import type { HttpStack } from './http/layer.js';
import { buildOutboundStack } from './http/outbound-stack.js';
import { DEFAULT_DOWNSTREAM_LIMITS, type DownstreamGuard, type DownstreamLimits } from './listeners/downstream-limits.js';
import { HttpListener } from './listeners/http-listener.js';
import { listenerKey, type Listener } from './listeners/listener.js';
import { TcpListener } from './listeners/tcp-listener.js';
import type { ProxyMetrics } from './metrics/proxy-metrics.js';
import { EndpointRegistry } from './pool/endpoint-registry.js';
import type { TlsSource } from './identity/proxy-identity.js';
import type { GatewayCertificates } from './identity/gateway-certificates.js';
import { ClusterRuntimes } from './resilience/cluster-runtime.js';
import { anonymousTelemetry, type ProxyTelemetry } from './telemetry/proxy-telemetry.js';
import type { TcpConnection, TcpService } from './tcp/tcp-layer.js';
import { buildTcpStack } from './tcp/tcp-stack.js';
import type { TlsHandshakeCounts } from './metrics/tls-handshakes.js';

export interface DataPlaneOptions {
  readonly metrics: ProxyMetrics;
  /** Who the proxy is, and its span exporter, access log and tap (default: an anonymous one). */
  readonly telemetry?: ProxyTelemetry;
  readonly logger?: Logger;
  /** How long a removed listener's open connections may finish (default 5000 ms). */
  readonly drainGraceMs?: number;
  /** What downstream clients may hold on every listener (default: DEFAULT_DOWNSTREAM_LIMITS). */
  readonly downstreamLimits?: Partial<DownstreamLimits>;
  /** The workload identity for mTLS listeners and clusters (none: such configs are refused). */
  readonly tls?: TlsSource;
  /** A gateway's: the certificates of its HTTPS listeners (from SDS). */
  readonly gatewayCertificates?: GatewayCertificates;
}

/** A listener the config asked for that could not be bound. */
export interface ListenerFailure {
  readonly listener: string;
  readonly address: string;
  readonly port: number;
  readonly code: ProxyErrorCode;
  readonly reason: string;
}

/** What apply() did with the listeners, by listener name. */
export interface ApplyResult {
  /** True when every listener of the config is bound. */
  readonly ok: boolean;
  readonly opened: readonly string[];
  readonly kept: readonly string[];
  readonly closed: readonly string[];
  readonly failed: readonly ListenerFailure[];
}

/** A bound listener as the data plane reports it. */
export interface BoundListener {
  readonly name: string;
  readonly protocol: 'http' | 'tcp' | 'capture';
  readonly direction: Direction;
  readonly address: string;
  /** The port actually bound (differs from the config's when it asked for 0). */
  readonly port: number;
}

type OpenListener =
  | { readonly kind: 'http'; readonly config: ListenerConfig; readonly listener: HttpListener }
  | { readonly kind: 'tcp'; readonly config: ListenerConfig; readonly listener: TcpListener }
  | { readonly kind: 'capture'; readonly config: ListenerConfig; readonly listener: CaptureListener };

export class DataPlane {
  private current: RuntimeConfig = EMPTY_CONFIG;
  private readonly endpoints: EndpointRegistry;
  private readonly tls: TlsSource | undefined;
  private readonly gatewayCertificates: GatewayCertificates | undefined;
  private readonly runtimes: ClusterRuntimes;
  /** Bound listeners by listenerKey. */
  private readonly open = new Map<string, OpenListener>();
  private readonly stacks: Record<Direction, HttpStack>;
  private readonly tcpStack: TcpService<TcpConnection>;
  private readonly metrics: ProxyMetrics;
  private readonly logger: Logger | undefined;
  private readonly drainGraceMs: number;
  private readonly downstreamLimits: DownstreamLimits;
  /** Handshakes of mTLS listeners: inbound, this proxy's own service. */
  private readonly inboundHandshakes: TlsHandshakeCounts;
  private readonly draining = new Set<Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Set by drainInbound: inbound listeners stay closed whatever later configs say. */
  private inboundDrained = false;

  constructor(opts: DataPlaneOptions) {
    this.metrics = opts.metrics;
    this.logger = opts.logger;
    this.drainGraceMs = opts.drainGraceMs ?? 5000;
    this.downstreamLimits = { ...DEFAULT_DOWNSTREAM_LIMITS, ...opts.downstreamLimits };
    this.tls = opts.tls;
    this.gatewayCertificates = opts.gatewayCertificates;
    this.runtimes = new ClusterRuntimes((service) => opts.metrics.clusterEvents(service));
    const pending = this.runtimes.pending;
    this.endpoints = new EndpointRegistry(
      opts.tls,
      (service) => opts.metrics.tlsHandshakes('outbound', service),
      () => pending.capacityFreed(),
    );
    const deps = { metrics: opts.metrics, telemetry: opts.telemetry ?? anonymousTelemetry(opts.metrics) };
    this.inboundHandshakes = opts.metrics.tlsHandshakes('inbound', deps.telemetry.identity.service);
    this.stacks = { inbound: buildInboundStack(deps), outbound: buildOutboundStack(deps) };
    this.tcpStack = buildTcpStack({ metrics: opts.metrics, logger: opts.logger, tlsSource: opts.tls });
  }

  /** The config last applied (EMPTY_CONFIG before the first). */
  get config(): RuntimeConfig {
    return this.current;
  }

  /** Swaps in `config`; calls are serialized, each sees the previous one finished. */
  apply(config: RuntimeConfig): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(config));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The listeners bound now. */
  listeners(): BoundListener[] {
    return [...this.open.values()].map(({ config, listener }) => ({
      name: config.name,
      protocol: config.protocol,
      direction: config.direction,
      address: config.address,
      port: listener.bound.port,
    }));
  }

  /** The bound port of listener `name`, if it is bound. */
  port(name: string): number | undefined {
    for (const o of this.open.values()) if (o.config.name === name) return o.listener.bound.port;
    return undefined;
  }

  /** Endpoint pools and in-flight counts; per cluster, requests in flight (counted with limits only) and waiting for a connection (for /stats). */
  stats(): {
    endpoints: { endpoint: string; active: number; h1Opened: number; h1Idle: number; h2Opened: number }[];
    clusters: { cluster: string; activeRequests: number; pendingRequests: number }[];
  } {
    return {
      endpoints: [...this.endpoints.all()].map((e) => ({ endpoint: e.key, active: e.active, h1Opened: e.h1.opened, h1Idle: e.h1.idleCount, h2Opened: e.h2.opened })),
      clusters: [...this.runtimes.all()].map(([cluster, r]) => ({ cluster, activeRequests: r.activeRequests, pendingRequests: r.pending.length })),
    };
  }

  /**
   * Shutdown, first step: stops accepting on every inbound listener and lets open connections
   * finish for up to `graceMs` (HTTP/1 closes after the response in flight, HTTP/2 gets GOAWAY).
   * Outbound listeners keep serving the app while it stops.
   */
  drainInbound(graceMs: number): Promise<void> {
    const run = this.queue.then(async () => {
      this.inboundDrained = true;
      const closing: Promise<void>[] = [];
      for (const [key, o] of this.open) {
        if (o.config.direction !== 'inbound') continue;
        this.open.delete(key);
        closing.push(o.listener.close(graceMs));
      }
      await Promise.all(closing);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes every listener (open connections get up to `graceMs`) and every pool. */
  async close(graceMs: number): Promise<void> {
    await this.queue;
    this.closed = true;
    const closing = [...this.open.values()].map((o) => o.listener.close(graceMs));
    this.open.clear();
    await Promise.all([...closing, ...this.draining]);
    this.endpoints.close();
    this.runtimes.close();
  }

  private async applyNow(config: RuntimeConfig): Promise<ApplyResult> {
    if (this.closed) throw new Error('DataPlane.apply called after close()');
    const snapshot = buildSnapshot(config, this.endpoints, this.runtimes);
    const opened: string[] = [];
    const kept: string[] = [];
    const closed: string[] = [];
    const failed: ListenerFailure[] = [];

    const wanted = new Map<string, ListenerConfig>();
    for (const l of config.listeners.values()) {
      if (this.inboundDrained && l.direction === 'inbound') continue;
      const key = listenerKey(l.protocol, l.address, l.port);
      const other = wanted.get(key);
      if (other !== undefined) {
        failed.push({
          listener: l.name,
          address: l.address,
          port: l.port,
          code: 'LISTENER_BIND_FAILED',
          reason: `listener ${l.name} could not bind ${l.address}:${l.port}: listener ${other.name} of the same config has that address`,
        });
        continue;
      }
      wanted.set(key, l);
    }

    // Close first, so a listener that changes protocol on the same port can bind again.
    for (const [key, o] of this.open) {
      if (wanted.has(key)) continue;
      this.open.delete(key);
      closed.push(o.config.name);
      this.drain(o.listener);
    }
    for (const [key, l] of wanted) {
      const existing = this.open.get(key);
      if (existing !== undefined) {
        this.update(existing, l, snapshot);
        this.open.set(key, { ...existing, config: l });
        kept.push(l.name);
        continue;
      }
      const result = await this.openListener(l, snapshot);
      if (result.ok) {
        this.open.set(key, result.value);
        opened.push(l.name);
      } else {
        failed.push({ listener: l.name, address: l.address, port: l.port, code: result.code, reason: result.reason });
        this.logger?.warn({ listener: l.name, reason: result.reason }, 'listener not bound');
      }
    }

    this.current = config;
    this.endpoints.retainOnly(snapshot.endpoints);
    return { ok: failed.length === 0, opened, kept, closed, failed };
  }

  private httpScope(l: ListenerConfig & { protocol: 'http' }, snapshot: PlaneSnapshot): HttpListenerScope {
    return { listener: l, router: snapshot.routers.get(l.routeTable), stack: this.stacks[l.direction] };
  }

  private tcpScope(l: ListenerConfig & { protocol: 'tcp' }, snapshot: PlaneSnapshot): TcpListenerScope {
    return { listener: l, backends: tcpBackends(snapshot, l), stack: this.tcpStack };
  }

  private captureScope(l: CaptureListenerConfig, snapshot: PlaneSnapshot): CaptureListenerScope {
    const tcp = new Map<string, WeightedChoice<ClusterState>>();
    for (const c of [...l.chains, ...(l.defaultChain ? [l.defaultChain] : [])]) {
      if (c.action.kind === 'tcp') tcp.set(c.name, chainBackends(snapshot, c.action.clusters));
    }
    return { listener: l, httpScope: (h) => this.httpScope(h, snapshot), tcpBackends: tcp, tcpStack: this.tcpStack };
  }

  private update(o: OpenListener, l: ListenerConfig, snapshot: PlaneSnapshot): void {
    if (o.kind === 'http' && l.protocol === 'http') o.listener.update(this.httpScope(l, snapshot));
    else if (o.kind === 'tcp' && l.protocol === 'tcp') o.listener.update(this.tcpScope(l, snapshot));
    else if (o.kind === 'capture' && l.protocol === 'capture') o.listener.update(this.captureScope(l, snapshot));
  }

  private async openListener(l: ListenerConfig, snapshot: PlaneSnapshot): Promise<{ ok: true; value: OpenListener } | { ok: false; code: ProxyErrorCode; reason: string }> {
    if (l.protocol === 'http') {
      const r = await HttpListener.open(this.httpScope(l, snapshot), this.logger, this.tls, this.inboundHandshakes, this.guard(l), this.gatewayCertificates);
      return r.ok ? { ok: true, value: { kind: 'http', config: l, listener: r.value } } : { ok: false, code: r.error.code, reason: r.error.message };
    }
    if (l.protocol === 'capture') {
      const r = await CaptureListener.open(this.captureScope(l, snapshot), this.logger, this.tls, this.inboundHandshakes, this.guard(l));
      return r.ok ? { ok: true, value: { kind: 'capture', config: l, listener: r.value } } : { ok: false, code: r.error.code, reason: r.error.message };
    }
    const r = await TcpListener.open(this.tcpScope(l, snapshot), this.logger, this.tls, this.inboundHandshakes, this.guard(l));
    return r.ok ? { ok: true, value: { kind: 'tcp', config: l, listener: r.value } } : { ok: false, code: r.error.code, reason: r.error.message };
  }

  /** The limits of listener `l`, counting what they refuse under its name. */
  private guard(l: ListenerConfig): DownstreamGuard {
    const { metrics } = this;
    const { direction, name } = l;
    return { limits: this.downstreamLimits, rejected: (reason) => metrics.downstreamRejected(direction, name, reason) };
  }

  private drain(listener: Listener): void {
    const p = listener.close(this.drainGraceMs).finally(() => this.draining.delete(p));
    this.draining.add(p);
  }
}
