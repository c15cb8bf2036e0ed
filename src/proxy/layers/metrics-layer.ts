// Layer: request count, latency and body bytes per label set (direction, destination service,
// source service and workload and whether they are authenticated, destination workload, route),
// recorded when the request is over with the status that went downstream ("unknown" service
// when no route matched).
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

export const UNKNOWN_SERVICE = 'unknown';

/** `telemetry` names the proxy (inbound destination); without it every label but service is "unknown". */
export function metricsLayer(metrics: ProxyMetrics, telemetry?: ProxyTelemetry): HttpLayer {
  const self = telemetry?.identity;
  const inboundWorkload = self?.workload ?? 'unknown';
  // One hook per stack, not per request.
  const record = (ctx: RequestContext): void => {
    const inbound = ctx.direction === 'inbound';
    const service = inbound && self !== undefined && ctx.cluster !== undefined ? self.service : (ctx.cluster?.service ?? UNKNOWN_SERVICE);
    const stats = metrics.statsFor(
      ctx.direction,
      service,
      ctx.sourceService,
      ctx.sourceWorkload,
      ctx.sourceAuthenticated,
      ctx.route?.name ?? '',
      inbound ? inboundWorkload : 'unknown',
    );
    stats.record(ctx.status, ctx.grpcStatus, (performance.now() - ctx.startTime) / 1000, ctx.requestBytes, ctx.responseBytes);
  };
  return {
    name: 'metrics',
    request(ctx, next) {
      ctx.onDone(record);
      next(ctx);
    },
  };
}
