// Wire types of the telemetry the proxies report and the control plane serves: a proxy's
// request stats (admin /stats/requests), golden signals (/api/v1/telemetry/...), spans and
// the topology. Shared by the proxy, the control plane, the CLI and the dashboard.

/** How spans travel to an OTLP collector, as OTEL_EXPORTER_OTLP_PROTOCOL names it. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
/** OpenTelemetry's SDK default, and the MeshConfig's for an external collector (the control plane's own receiver gets JSON by default). */
export const DEFAULT_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

/** The workload name of a proxy: what replicas of one version share (bounded, like a Deployment name). */
export function workloadName(service: string, labels: Readonly<Record<string, string>>): string {
  const v = labels['version'];
  return v !== undefined && v !== '' ? `${service}-${v}` : service;
}

/** One label set's cumulative counts in a proxy. */
export interface RequestSeries {
  direction: 'inbound' | 'outbound';
  /** Destination service, `name.namespace`. */
  service: string;
  sourceService: string;
  sourceWorkload: string;
  /** False when the source labels are the caller's own claim (plaintext); absent from older proxies. */
  sourceAuthenticated?: boolean;
  destinationWorkload: string;
  route: string;
  count: number;
  sumSeconds: number;
  /** Non-cumulative counts per bucket bound (the rest of `count` is above the last bound). */
  buckets: number[];
  /** Requests by status, `"200"` or `"200/14"` with the gRPC status. */
  codes: Record<string, number>;
  requestBytes: number;
  responseBytes: number;
}

export interface RequestStatsReport {
  /** When the proxy started (ms since the epoch): counts from before a collector started are history, not traffic of now. */
  startedAt?: number;
  /** Upper bounds in seconds of `buckets`. */
  bucketBounds: number[];
  series: RequestSeries[];
}

/** Golden signals of one subject over one window. */
export interface GoldenSignals {
  /** Requests in the window. */
  requests: number;
  /** Requests that did not fail (status < 500 and not a proxy error), in the window. */
  successes: number;
  /** Requests per second over the window. */
  rps: number;
  /** successes / requests, or null without requests. */
  successRate: number | null;
  /** Latency percentiles in milliseconds (interpolated within histogram buckets), null without requests. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface ServiceStat extends GoldenSignals {
  /** `name.namespace`. */
  service: string;
  /** Workloads seen serving it. */
  workloads: string[];
}

export interface WorkloadStat extends GoldenSignals {
  service: string;
  workload: string;
}

export interface EdgeStat extends GoldenSignals {
  /** The caller's service (`name.namespace`) and workload. */
  source: string;
  sourceWorkload: string;
  /** The callee's service. */
  destination: string;
}

/**
 * How much of a window the collected stats cover. A second counts as covered when every
 * registered proxy with an admin listener had its counts collected for it; before the
 * collector started, before a proxy was first seen (its earlier counts are history), and
 * after a proxy's collections stopped succeeding, it does not.
 */
export interface WindowCoverage {
  windowSeconds: number;
  /** Seconds of the window covered by every proxy (to the millisecond). */
  coveredSeconds: number;
  /** coveredSeconds / windowSeconds, 0..1. */
  fraction: number;
  /** The proxies that did not cover the whole window, with the seconds they did cover. */
  gaps: { proxy: string; coveredSeconds: number; reason: string }[];
}

/** What GET /api/v1/telemetry/stat answers. */
export interface StatAnswer {
  windowSeconds: number;
  /** How much of the window the figures cover (a restarted control plane starts with none). */
  coverage: WindowCoverage;
  /** When the latest collection ended (RFC 3339). */
  at: string;
  services: ServiceStat[];
  workloads: WorkloadStat[];
  edges: EdgeStat[];
}

/** A point of a time series (GET /api/v1/telemetry/services/{service}/history). */
export interface HistoryPoint {
  /** Unix seconds. */
  t: number;
  rps: number;
  successRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** A span as the control plane keeps it (from OTLP). */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  /** The emitting service (resource service.name). */
  service: string;
  startUnixMs: number;
  endUnixMs: number;
  statusCode: number;
  attributes: Record<string, string | number | boolean>;
}

export interface TraceSummary {
  traceId: string;
  rootName: string;
  rootService: string;
  startUnixMs: number;
  durationMs: number;
  spans: number;
  errors: number;
  services: string[];
  /** Spans whose parent is not (yet) in the trace: 1 for a whole tree; more while spans are still arriving. */
  roots: number;
  /** The spans received form one tree (roots === 1). Spans further down may still come; none above is missing. */
  complete: boolean;
}
