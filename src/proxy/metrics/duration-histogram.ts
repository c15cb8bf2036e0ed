// A Prometheus histogram whose series are read from RequestStats of one direction instead of
// prom-client's own store (which hashes labels on every observation).
import { Histogram, type Registry } from './prom-client-core.js';
import type { Direction } from '../config/runtime-config.js';
import { DURATION_BUCKETS, type RequestStats } from './request-stats.js';

type Labels = 'service' | 'source_service' | 'source_workload' | 'source_authenticated' | 'destination_workload' | 'route';
type HistogramGet = Awaited<ReturnType<Histogram<Labels>['get']>>;

export class DurationHistogram extends Histogram<Labels> {
  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    private readonly direction: Direction,
    private readonly source: () => Iterable<RequestStats>,
    registry: Registry,
  ) {
    super({
      name: metricName,
      help: helpText,
      labelNames: ['service', 'source_service', 'source_workload', 'source_authenticated', 'destination_workload', 'route'],
      buckets: [...DURATION_BUCKETS],
      registers: [registry],
    });
  }

  override async get(): Promise<HistogramGet> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    const name = this.metricName;
    for (const s of this.source()) {
      if (s.direction !== this.direction) continue;
      const l = s.labels;
      const base = {
        service: l.service,
        source_service: l.sourceService,
        source_workload: l.sourceWorkload,
        source_authenticated: l.sourceAuthenticated ? 'true' : 'false',
        destination_workload: l.destinationWorkload,
        route: l.route,
      };
      let acc = 0;
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        acc += s.bucketCounts[i]!;
        values.push({ labels: { ...base, le: DURATION_BUCKETS[i]! }, value: acc, metricName: `${name}_bucket` });
      }
      values.push({ labels: { ...base, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels: base, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: base, value: s.count, metricName: `${name}_count` });
    }
    return { name, help: this.helpText, type: 'histogram', values, aggregator: 'sum' } as unknown as HistogramGet;
  }

  /** The registry prefers this over get() for text output. */
  getForPromString(): ReturnType<DurationHistogram['get']> {
    return this.get();
  }
}
