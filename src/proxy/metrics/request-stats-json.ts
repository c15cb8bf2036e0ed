// The JSON form of a proxy's request stats (admin /stats/requests): cumulative counts per
// label set, the latency histogram as non-cumulative bucket counts. The control plane's
// collector reads this instead of parsing the Prometheus text; the wire type is in api/.
import type { RequestStatsReport } from '../../api/telemetry.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { DURATION_BUCKETS, RequestStats } from './request-stats.js';

export function requestStatsJson(metrics: ProxyMetrics): RequestStatsReport {
  const series: RequestStatsReport['series'] = [];
  for (const s of metrics.allStats()) {
    const codes: Record<string, number> = {};
    for (const [key, n] of s.codes) {
      const { code, grpcStatus } = RequestStats.decodeKey(key);
      const k = grpcStatus === undefined ? code : `${code}/${grpcStatus}`;
      codes[k] = (codes[k] ?? 0) + n;
    }
    series.push({ ...s.labels, count: s.count, sumSeconds: s.sum, buckets: [...s.bucketCounts], codes, requestBytes: s.requestBytes, responseBytes: s.responseBytes });
  }
  return { startedAt: Math.round(performance.timeOrigin), bucketBounds: [...DURATION_BUCKETS], series };
}
