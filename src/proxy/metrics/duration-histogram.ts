// Prometheus histograms whose series are read from the RequestStats of one direction instead
// of prom-client's own store (which hashes labels on every observation): the request
// duration and body sizes of OpenTelemetry's HTTP conventions, labelled by the mesh's labels
// and the conventions' attributes (dots as underscores).
import { Histogram, type Registry } from './prom-client-core.js';
import type { Direction } from '../config/runtime-config.js';
import { BODY_SIZE_BUCKETS, decodeCellKey, DURATION_BUCKETS, errorTypeOf, serverOf, type HttpCell } from './http-semconv.js';
import { meshPromLabels, type RequestStats } from './request-stats.js';

const LABELS = [
  'service',
  'source_service',
  'source_workload',
  'source_authenticated',
  'destination_workload',
  'route',
  'http_request_method',
  'http_response_status_code',
  'http_route',
  'error_type',
  'server_address',
  'server_port',
  'url_scheme',
] as const;
type Labels = (typeof LABELS)[number];
type HistogramGet = Awaited<ReturnType<Histogram<Labels>['get']>>;

/** Which measurement of an HttpCell a histogram exposes. */
export type CellField = 'duration' | 'requestSize' | 'responseSize';

const read: Record<CellField, (c: HttpCell) => { counts: Float64Array; sum: number }> = {
  duration: (c) => ({ counts: c.durationCounts, sum: c.durationSum }),
  requestSize: (c) => ({ counts: c.requestSizeCounts, sum: c.requestSizeSum }),
  responseSize: (c) => ({ counts: c.responseSizeCounts, sum: c.responseSizeSum }),
};

export class DurationHistogram extends Histogram<Labels> {
  private readonly bounds: readonly number[];

  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    private readonly direction: Direction,
    private readonly source: () => Iterable<RequestStats>,
    registry: Registry,
    private readonly field: CellField = 'duration',
  ) {
    const bounds = field === 'duration' ? DURATION_BUCKETS : BODY_SIZE_BUCKETS;
    super({ name: metricName, help: helpText, labelNames: [...LABELS], buckets: [...bounds], registers: [registry] });
    this.bounds = bounds;
  }

  override async get(): Promise<HistogramGet> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    const name = this.metricName;
    const bounds = this.bounds;
    for (const s of this.source()) {
      if (s.direction !== this.direction) continue;
      const l = s.labels;
      for (const [serverKey, cells] of s.http) {
        const server = serverOf(serverKey);
        for (const [key, cell] of cells) {
          const k = decodeCellKey(key);
          const base: Record<string, string> = {
            ...meshPromLabels(l),
            http_request_method: k.method,
            http_response_status_code: String(k.status),
            server_address: l.service,
            server_port: String(server.port),
            url_scheme: server.scheme,
          };
          // Absent, not empty, where the conventions say "when available".
          if (l.route !== '') base.http_route = l.route;
          const errorType = errorTypeOf(k.error, k.status);
          if (errorType !== '') base.error_type = errorType;
          const { counts, sum } = read[this.field](cell);
          let acc = 0;
          for (let i = 0; i < bounds.length; i++) {
            acc += counts[i]!;
            values.push({ labels: { ...base, le: bounds[i]! }, value: acc, metricName: `${name}_bucket` });
          }
          values.push({ labels: { ...base, le: '+Inf' }, value: cell.count, metricName: `${name}_bucket` });
          values.push({ labels: base, value: sum, metricName: `${name}_sum` });
          values.push({ labels: base, value: cell.count, metricName: `${name}_count` });
        }
      }
    }
    return { name, help: this.helpText, type: 'histogram', values, aggregator: 'sum' } as unknown as HistogramGet;
  }

  /** The registry prefers this over get() for text output. */
  getForPromString(): ReturnType<DurationHistogram['get']> {
    return this.get();
  }
}
