// Layer: request count, latency and body bytes per label set (direction, destination service,
// source service and workload and whether they are authenticated, destination workload, route),
// recorded when the request is over with the status that went downstream ("unknown" service
// when no route matched), each also placed by OpenTelemetry's HTTP attributes (method, status,
// error type, server port, scheme); and the requests in flight.
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import { ERROR_IS_STATUS, errorSlot, methodIndex, NO_ERROR, serverKey } from '../metrics/http-semconv.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

export const UNKNOWN_SERVICE = 'unknown';

/** The port in a cluster's name (`outbound|8080||payments.default`, `inbound|8080`), read once per cluster; 0 when it has none. */
const clusterPorts = new WeakMap<ClusterState, number>();
function clusterPort(cluster: ClusterState): number {
  let port = clusterPorts.get(cluster);
  if (port === undefined) {
    const p = Number(cluster.name.split('|')[1]);
    clusterPorts.set(cluster, (port = Number.isInteger(p) && p > 0 && p < 65536 ? p : 0));
  }
  return port;
}

/** `error.type` of a finished request as the conventions define it: the proxy's error code, or the status when it counts as failed. */
function errorOf(ctx: RequestContext, inbound: boolean): number {
  if (ctx.error !== undefined) return errorSlot(ctx.error.code);
  const s = ctx.status;
  return s === 0 || s >= 500 || (!inbound && s >= 400) ? ERROR_IS_STATUS : NO_ERROR;
}

/** `telemetry` names the proxy (inbound destination); without it every label but service is "unknown". */
export function metricsLayer(metrics: ProxyMetrics, telemetry?: ProxyTelemetry): HttpLayer {
  const self = telemetry?.identity;
  const inboundWorkload = self?.workload ?? 'unknown';
  // One hook per stack, not per request.
  const record = (ctx: RequestContext): void => {
    const inbound = ctx.direction === 'inbound';
    const https = ctx.listener.tls !== undefined;
    const method = methodIndex(ctx.method);
    metrics.activeRequests(ctx.direction, https)[method]!--;
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
    // server.port: the app's port (inbound) or the destination Service's (outbound); the listener's when no cluster says.
    const port = (ctx.cluster === undefined ? 0 : clusterPort(ctx.cluster)) || ctx.listener.port;
    const seconds = (performance.now() - ctx.startTime) / 1000;
    stats.record(ctx.status, ctx.grpcStatus, seconds, ctx.requestBytes, ctx.responseBytes, serverKey(port, https), method, errorOf(ctx, inbound));
  };
  return {
    name: 'metrics',
    request(ctx, next) {
      metrics.activeRequests(ctx.direction, ctx.listener.tls !== undefined)[methodIndex(ctx.method)]!++;
      ctx.onDone(record);
      next(ctx);
    },
  };
}
