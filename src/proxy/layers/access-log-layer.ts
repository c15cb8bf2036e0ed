// Layer: the access log. A sampled share of requests (the listener's percentage) is written as
// one JSON line when the request is over; listeners without access log config skip it.
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import type { AccessLogEntry } from '../telemetry/access-log.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

/** The access log entry of a finished request. */
export function accessLogEntry(ctx: RequestContext, selfService: string): AccessLogEntry {
  const e: AccessLogEntry = {
    start_time: new Date(performance.timeOrigin + ctx.startTime).toISOString(),
    direction: ctx.direction,
    method: ctx.method,
    authority: ctx.authority,
    path: ctx.path,
    protocol: ctx.downstream.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1',
    response_code: ctx.status,
    response_flags: ctx.error?.code ?? (ctx.status === 0 ? 'DOWNSTREAM_CLOSED' : '-'),
    duration_ms: Math.round((performance.now() - ctx.startTime) * 1000) / 1000,
    bytes_received: ctx.requestBytes,
    bytes_sent: ctx.responseBytes,
    route_name: ctx.route?.name ?? '',
    source_service: ctx.sourceService,
    source_workload: ctx.sourceWorkload,
    source_authenticated: ctx.sourceAuthenticated,
    destination_service: ctx.direction === 'inbound' ? selfService : (ctx.cluster?.service ?? 'unknown'),
  };
  if (ctx.grpcStatus >= 0) e.grpc_status = ctx.grpcStatus;
  if (ctx.endpoint !== undefined) e.upstream_host = ctx.endpoint.key;
  if (ctx.cluster !== undefined) e.upstream_cluster = ctx.cluster.name;
  if (ctx.trace !== undefined) e.trace_id = ctx.trace.traceId;
  const ua = ctx.header('user-agent');
  if (ua !== undefined) e.user_agent = ua;
  const id = ctx.header('x-request-id');
  if (id !== undefined) e.request_id = id;
  return e;
}

export function accessLogLayer(telemetry: ProxyTelemetry): HttpLayer {
  const self = telemetry.identity.service;
  const write = (ctx: RequestContext): void => telemetry.accessLog.write(accessLogEntry(ctx, self));
  return {
    name: 'access-log',
    request(ctx, next) {
      const percent = ctx.listener.telemetry?.accessLogPercent;
      if (percent !== undefined && (percent >= 100 || Math.random() * 100 < percent)) ctx.onDone(write);
      next(ctx);
    },
  };
}
