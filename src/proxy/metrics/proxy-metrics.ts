// The proxy's Prometheus metrics (own Registry). Request metrics are accumulated in plain
// numbers per label set and turned into series at scrape time, because prom-client's labelled
// inc/observe builds a label hash string on every call. Names follow OpenTelemetry's HTTP
// semantic conventions where they exist (http.server.request.duration and
// http.client.request.duration, in Prometheus form); see docs/observability.md.
import { Counter, Gauge, Registry } from './prom-client-core.js';
import type { Direction } from '../config/runtime-config.js';
import { ClusterEvents, registerClusterEventMetrics } from './cluster-events.js';
import { DurationHistogram } from './duration-histogram.js';
import { KNOWN_METHODS } from './http-semconv.js';
import { registerTlsHandshakeMetrics, TlsHandshakeCounts } from './tls-handshakes.js';
import { meshPromLabels, RequestStats, type RequestLabels } from './request-stats.js';

type CounterLabels = 'direction' | 'service' | 'source_service' | 'source_workload' | 'source_authenticated' | 'destination_workload' | 'route' | 'code' | 'grpc_status';
type ServiceLabels = 'direction' | 'service';
type BytesLabels = 'direction' | 'service' | 'flow';

/** Most distinct label sets per direction; requests beyond it are counted under `service="overflow"`. */
export const MAX_LABEL_SETS = 2000;

/** Prometheus labels of a RequestStats (snake_case, as exposed). */
export function promLabels(l: RequestLabels): Record<string, string> {
  return { direction: l.direction, ...meshPromLabels(l) };
}

type ByRoute = Map<string, RequestStats>;
type ByWorkload = Map<string, ByRoute>;
type BySourceService = Map<string, ByWorkload>;
type StatsTree = Map<Direction, Map<string, BySourceService>>;
const statsTree = (): StatsTree =>
  new Map([
    ['inbound', new Map<string, BySourceService>()],
    ['outbound', new Map<string, BySourceService>()],
  ]);

/** All metrics of one proxy; `registry` is what /metrics serves. */
export class ProxyMetrics {
  readonly registry = new Registry();
  /** [unauthenticated, authenticated source] -> direction -> service -> source service -> source workload -> route -> stats: look-ups without building strings. */
  private readonly stats = [statsTree(), statsTree()] as const;
  private readonly sizes: Record<Direction, number> = { inbound: 0, outbound: 0 };
  private readonly tcpOpened: Counter<ServiceLabels>;
  private readonly tcpClosed: Counter<ServiceLabels>;
  private readonly tcpBytes: Counter<BytesLabels>;
  private readonly authzDecisions: Counter<'direction' | 'listener' | 'decision' | 'policy'>;
  private readonly refused: Counter<'protocol'>;
  private readonly rejected: Counter<'direction' | 'listener' | 'reason'>;
  /** Resilience event counts by destination service; kept when a cluster goes, so counters never go back. */
  private readonly clusterEventsByService = new Map<string, ClusterEvents>();
  /** mTLS handshake counts by direction and service. */
  private readonly handshakes: Record<Direction, Map<string, TlsHandshakeCounts>> = { inbound: new Map(), outbound: new Map() };
  /** Requests in flight: direction -> serverKey -> count per KNOWN_METHODS index. */
  private readonly active: Record<Direction, Map<boolean, Float64Array>> = { inbound: new Map(), outbound: new Map() };
  /** OpenTelemetry resource attributes of this proxy, exposed as `target_info`. */
  private target: Record<string, string> | undefined;
  /** Named counters other layers add (spans exported, access log lines dropped, ...). */
  private readonly extra = new Map<string, { help: string; read: () => number }>();

  constructor() {
    const all = () => this.allStats();
    new Counter<CounterLabels>({
      name: 'trellis_requests_total',
      help: "HTTP and gRPC requests handled, by direction, destination service, source service and workload (source_authenticated: whether those come from mTLS or this proxy rather than the caller's own header), destination workload, route, HTTP status and gRPC status.",
      labelNames: ['direction', 'service', 'source_service', 'source_workload', 'source_authenticated', 'destination_workload', 'route', 'code', 'grpc_status'],
      registers: [this.registry],
      collect(this: Counter<CounterLabels>) {
        this.reset();
        for (const s of all()) {
          const base = promLabels(s.labels);
          for (const [key, n] of s.codes) {
            const { code, grpcStatus } = RequestStats.decodeKey(key);
            this.inc(grpcStatus === undefined ? { ...base, code } : { ...base, code, grpc_status: grpcStatus }, n);
          }
        }
      },
    });
    new DurationHistogram(
      'http_server_request_duration_seconds',
      'Duration of inbound HTTP server requests (OpenTelemetry http.server.request.duration), from request received to response complete.',
      'inbound',
      all,
      this.registry,
    );
    new DurationHistogram(
      'http_client_request_duration_seconds',
      'Duration of outbound HTTP client requests (OpenTelemetry http.client.request.duration), from request received from the app to response complete.',
      'outbound',
      all,
      this.registry,
    );
    for (const [name, direction, field, help] of [
      ['http_server_request_body_size_bytes', 'inbound', 'requestSize', 'Size of inbound HTTP request bodies (OpenTelemetry http.server.request.body.size).'],
      ['http_server_response_body_size_bytes', 'inbound', 'responseSize', 'Size of inbound HTTP response bodies (OpenTelemetry http.server.response.body.size).'],
      ['http_client_request_body_size_bytes', 'outbound', 'requestSize', 'Size of outbound HTTP request bodies (OpenTelemetry http.client.request.body.size).'],
      ['http_client_response_body_size_bytes', 'outbound', 'responseSize', 'Size of outbound HTTP response bodies (OpenTelemetry http.client.response.body.size).'],
    ] as const) {
      new DurationHistogram(name, `${help} Labels as the request duration.`, direction, all, this.registry, field);
    }
    const active = this.active;
    for (const [name, direction, help] of [
      ['http_server_active_requests', 'inbound', 'Inbound HTTP requests in flight (OpenTelemetry http.server.active_requests).'],
      ['http_client_active_requests', 'outbound', 'Outbound HTTP requests in flight (OpenTelemetry http.client.active_requests).'],
    ] as const) {
      new Gauge<'http_request_method' | 'url_scheme'>({
        name,
        help: `${help} Labels: the conventions' required ones.`,
        labelNames: ['http_request_method', 'url_scheme'],
        registers: [this.registry],
        collect(this: Gauge<'http_request_method' | 'url_scheme'>) {
          this.reset();
          for (const [https, counts] of active[direction]) {
            for (let m = 0; m < counts.length; m++) this.set({ http_request_method: KNOWN_METHODS[m]!, url_scheme: https ? 'https' : 'http' }, counts[m]!);
          }
        },
      });
    }
    const target = () => this.target;
    new Gauge<string>({
      name: 'target_info',
      help: "Target metadata: the proxy's OpenTelemetry resource attributes (service.name, service.namespace, service.instance.id) as labels.",
      labelNames: ['service_name', 'service_namespace', 'service_instance_id', 'trellis_workload'],
      registers: [this.registry],
      collect(this: Gauge<string>) {
        const t = target();
        this.reset();
        if (t !== undefined) this.set(t, 1);
      },
    });
    for (const [name, field, help] of [
      ['trellis_request_body_bytes_total', 'requestBytes', 'Request body bytes received from the downstream client.'],
      ['trellis_response_body_bytes_total', 'responseBytes', 'Response body bytes sent to the downstream client.'],
    ] as const) {
      new Counter<Exclude<CounterLabels, 'code' | 'grpc_status'>>({
        name,
        help: `${help} Labels as trellis_requests_total without code.`,
        labelNames: ['direction', 'service', 'source_service', 'source_workload', 'source_authenticated', 'destination_workload', 'route'],
        registers: [this.registry],
        collect(this: Counter<Exclude<CounterLabels, 'code' | 'grpc_status'>>) {
          this.reset();
          for (const s of all()) if (s[field] > 0) this.inc(promLabels(s.labels), s[field]);
        },
      });
    }
    this.tcpOpened = new Counter<ServiceLabels>({
      name: 'trellis_tcp_connections_total',
      help: 'TCP connections opened through TCP listeners, by direction and destination service.',
      labelNames: ['direction', 'service'],
      registers: [this.registry],
    });
    this.tcpClosed = new Counter<ServiceLabels>({
      name: 'trellis_tcp_connections_closed_total',
      help: 'TCP connections through TCP listeners that are over, by direction and destination service.',
      labelNames: ['direction', 'service'],
      registers: [this.registry],
    });
    this.tcpBytes = new Counter<BytesLabels>({
      name: 'trellis_tcp_bytes_total',
      help: 'Bytes proxied by TCP listeners; flow=received is from the downstream client, flow=sent is to it.',
      labelNames: ['direction', 'service', 'flow'],
      registers: [this.registry],
    });
    this.refused = new Counter<'protocol'>({
      name: 'trellis_outbound_refused_total',
      help: 'Captured outbound connections refused because their destination is not a mesh Service (outbound policy Refuse), by detected protocol.',
      labelNames: ['protocol'],
      registers: [this.registry],
    });
    this.rejected = new Counter<'direction' | 'listener' | 'reason'>({
      name: 'trellis_downstream_rejected_total',
      help: 'Downstream connections and requests a listener closed or refused at its limits, by listener and reason: connection_limit, head_timeout, idle_timeout (stalled HTTP/2 streams), malformed_request, too_many_headers, duplicate_host, h2_reset_flood.',
      labelNames: ['direction', 'listener', 'reason'],
      registers: [this.registry],
    });
    const extra = this.extra;
    new Counter<'event'>({
      name: 'trellis_telemetry_events_total',
      help: 'What the telemetry pipeline did, by event: spans_exported, spans_dropped, access_log_lines, access_log_dropped, tap_events, tap_dropped.',
      labelNames: ['event'],
      registers: [this.registry],
      collect(this: Counter<'event'>) {
        this.reset();
        for (const [event, e] of extra) {
          const n = e.read();
          if (n > 0) this.inc({ event }, n);
        }
      },
    });
    registerClusterEventMetrics(this.registry, () => this.clusterEventsByService.values());
    const handshakes = this.handshakes;
    registerTlsHandshakeMetrics(this.registry, function* () {
      yield* handshakes.inbound.values();
      yield* handshakes.outbound.values();
    });
    this.authzDecisions = new Counter({
      name: 'trellis_authz_decisions_total',
      help: 'Authorization decisions on listeners with policies, by listener, decision (allow or deny) and the deciding policy (empty: none matched).',
      labelNames: ['direction', 'listener', 'decision', 'policy'],
      registers: [this.registry],
    });
  }

  /** Sets the resource attributes `target_info` exposes (Prometheus names: dots as underscores). */
  setTarget(attributes: Record<string, string>): void {
    this.target = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k.replace(/\./g, '_'), v]));
  }

  /** The in-flight counts of (direction, scheme) by method index, to increment when a request starts and decrement when it is over. */
  activeRequests(direction: Direction, https: boolean): Float64Array {
    const byScheme = this.active[direction];
    let counts = byScheme.get(https);
    if (counts === undefined) byScheme.set(https, (counts = new Float64Array(KNOWN_METHODS.length)));
    return counts;
  }

  /** Counts one authorization decision. */
  authzDecision(direction: Direction, listener: string, allowed: boolean, policy: string | undefined): void {
    this.authzDecisions.inc({ direction, listener, decision: allowed ? 'allow' : 'deny', policy: policy ?? '' });
  }

  /**
   * The resilience event counts of destination `service`, to bind once per cluster (not per
   * request). Bounded like the request label sets: past MAX_LABEL_SETS services, "overflow".
   */
  clusterEvents(service: string): ClusterEvents {
    let e = this.clusterEventsByService.get(service);
    if (e === undefined) {
      if (service !== 'overflow' && this.clusterEventsByService.size >= MAX_LABEL_SETS) return this.clusterEvents('overflow');
      this.clusterEventsByService.set(service, (e = new ClusterEvents(service)));
    }
    return e;
  }

  /** The mTLS handshake counts of (direction, service), to bind once per listener or endpoint. */
  tlsHandshakes(direction: Direction, service: string): TlsHandshakeCounts {
    const byService = this.handshakes[direction];
    let c = byService.get(service);
    if (c === undefined) {
      if (service !== 'overflow' && byService.size >= MAX_LABEL_SETS) return this.tlsHandshakes(direction, 'overflow');
      byService.set(service, (c = new TlsHandshakeCounts(direction, service)));
    }
    return c;
  }

  /** Counts one downstream connection or request a listener refused (rare: labels built per call). */
  downstreamRejected(direction: Direction, listener: string, reason: string): void {
    this.rejected.inc({ direction, listener, reason });
  }

  /** Counts one refused outbound connection. */
  outboundRefused(protocol: string): void {
    this.refused.inc({ protocol });
  }

  /** The accumulator for (direction, service) with every other label "unknown" (tests and simple callers). */
  requestStats(direction: Direction, service: string): RequestStats {
    return this.statsFor(direction, service, 'unknown', 'unknown', false, '', 'unknown');
  }

  /**
   * The accumulator for one label set (the destination workload is fixed per proxy and
   * direction, so it is not part of the look-up). Plain arguments and nested maps: nothing is
   * allocated per call. Callers may keep the result (it lives as long as this object).
   */
  statsFor(
    direction: Direction,
    service: string,
    sourceService: string,
    sourceWorkload: string,
    sourceAuthenticated: boolean,
    route: string,
    destinationWorkload: string,
  ): RequestStats {
    const byService = this.stats[sourceAuthenticated ? 1 : 0].get(direction)!;
    let bySourceService = byService.get(service);
    if (bySourceService === undefined) byService.set(service, (bySourceService = new Map<string, ByWorkload>()));
    let byWorkload = bySourceService.get(sourceService);
    if (byWorkload === undefined) bySourceService.set(sourceService, (byWorkload = new Map<string, ByRoute>()));
    let byRoute = byWorkload.get(sourceWorkload);
    if (byRoute === undefined) byWorkload.set(sourceWorkload, (byRoute = new Map<string, RequestStats>()));
    let s = byRoute.get(route);
    if (s === undefined) {
      if (this.sizes[direction] >= MAX_LABEL_SETS) return this.statsFor(direction, 'overflow', 'unknown', 'unknown', false, '', 'unknown');
      this.sizes[direction]++;
      s = new RequestStats(direction, service, { sourceService, sourceWorkload, sourceAuthenticated, destinationWorkload, route });
      byRoute.set(route, s);
    }
    return s;
  }

  /** Every accumulator (for the control plane's JSON view and the exposition). */
  *allStats(): Iterable<RequestStats> {
    for (const tree of this.stats)
      for (const byService of tree.values()) {
        for (const bySourceService of byService.values()) for (const byWorkload of bySourceService.values()) for (const byRoute of byWorkload.values()) yield* byRoute.values();
      }
  }

  /** Adds a cumulative count read at scrape time as `trellis_telemetry_events_total{event}`. */
  addCount(name: string, help: string, read: () => number): void {
    this.extra.set(name, { help, read });
  }

  /** Counts one accepted TCP connection. */
  tcpConnection(direction: Direction, service: string): void {
    this.tcpOpened.inc({ direction, service });
  }

  /** Adds the bytes of one finished TCP connection (and counts it closed). */
  tcpTraffic(direction: Direction, service: string, received: number, sent: number): void {
    this.tcpClosed.inc({ direction, service });
    if (received > 0) this.tcpBytes.inc({ direction, service, flow: 'received' }, received);
    if (sent > 0) this.tcpBytes.inc({ direction, service, flow: 'sent' }, sent);
  }

  /** Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
