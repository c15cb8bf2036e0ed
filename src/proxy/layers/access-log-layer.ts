// Layer: the access log. A sampled share of requests (the listener's percentage) that meets the
// listener's filter (status, duration) is written as one JSON line when the request is over: the
// full entry, or the operator's chosen fields; listeners without access log config skip it.
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import { ACCESS_LOG_FIELDS, type AccessLogField } from '../../api/access-log-fields.js';
import type { AccessLogCondition, ListenerTelemetry } from '../config/runtime-config.js';
import type { AccessLogEntry } from '../telemetry/access-log.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

type FieldValue = string | number | boolean | undefined;
const ms = (t: number): number => Math.round(t * 1000) / 1000;

/** How each field is filled from a finished request; undefined leaves the key out of the line. */
const FIELD: Record<AccessLogField, (ctx: RequestContext, self: string) => FieldValue> = {
  start_time: (ctx) => new Date(performance.timeOrigin + ctx.startTime).toISOString(),
  direction: (ctx) => ctx.direction,
  method: (ctx) => ctx.method,
  authority: (ctx) => ctx.authority,
  path: (ctx) => ctx.path,
  protocol: (ctx) => (ctx.downstream.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1'),
  response_code: (ctx) => ctx.status,
  grpc_status: (ctx) => (ctx.grpcStatus >= 0 ? ctx.grpcStatus : undefined),
  response_flags: (ctx) => ctx.error?.code ?? (ctx.status === 0 ? 'DOWNSTREAM_CLOSED' : '-'),
  duration_ms: (ctx) => ms(performance.now() - ctx.startTime),
  upstream_ttfb_ms: (ctx) => (ctx.upstreamHeadTime >= 0 ? ms(ctx.upstreamHeadTime - ctx.startTime) : undefined),
  bytes_received: (ctx) => ctx.requestBytes,
  bytes_sent: (ctx) => ctx.responseBytes,
  upstream_host: (ctx) => ctx.endpoint?.key,
  upstream_cluster: (ctx) => ctx.cluster?.name,
  route_name: (ctx) => ctx.route?.name ?? '',
  client_address: (ctx) => withoutMappedPrefix(ctx.downstream.remoteAddress),
  x_forwarded_for: (ctx) => ctx.header('x-forwarded-for'),
  source_service: (ctx) => ctx.sourceService,
  source_workload: (ctx) => ctx.sourceWorkload,
  source_authenticated: (ctx) => ctx.sourceAuthenticated,
  destination_service: (ctx, self) => (ctx.direction === 'inbound' ? self : (ctx.cluster?.service ?? 'unknown')),
  trace_id: (ctx) => ctx.trace?.traceId,
  span_id: (ctx) => ctx.trace?.spanId,
  user_agent: (ctx) => ctx.header('user-agent'),
  request_id: (ctx) => ctx.header('x-request-id'),
};

/** An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; the log names a.b.c.d. */
function withoutMappedPrefix(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The line of a finished request in the operator's json_format: its keys, in order, each with its field's value. */
export function accessLogLine(ctx: RequestContext, selfService: string, format: NonNullable<ListenerTelemetry['accessLogFormat']>): Record<string, string | number | boolean> {
  const line: Record<string, string | number | boolean> = {};
  for (let i = 0; i < format.length; i++) {
    const [key, field] = format[i]!;
    const v = FIELD[field](ctx, selfService);
    if (v !== undefined) line[key] = v;
  }
  return line;
}

/** True when the request meets the listener's access log filter (either threshold), or there is none. */
export function passesAccessLogFilter(ctx: RequestContext, filter: AccessLogCondition | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.minStatusCode !== undefined && ctx.status >= filter.minStatusCode) return true;
  return filter.minDurationMs !== undefined && performance.now() - ctx.startTime >= filter.minDurationMs;
}

/** Fields an operator chooses by name (MeshConfig accessLog.fields); the default line leaves them out. */
const CHOSEN_ONLY: ReadonlySet<AccessLogField> = new Set<AccessLogField>(['client_address', 'x_forwarded_for', 'span_id', 'upstream_ttfb_ms']);

/** The default line: every field but the chosen-only ones, in the fields' order, keyed by field name. */
const FULL_LINE: readonly (readonly [string, AccessLogField])[] = ACCESS_LOG_FIELDS.filter((f) => !CHOSEN_ONLY.has(f)).map((f) => [f, f]);

/** The full access log entry of a finished request. */
export function accessLogEntry(ctx: RequestContext, selfService: string): AccessLogEntry {
  return accessLogLine(ctx, selfService, FULL_LINE) as unknown as AccessLogEntry;
}

export function accessLogLayer(telemetry: ProxyTelemetry): HttpLayer {
  const self = telemetry.identity.service;
  const write = (ctx: RequestContext): void => {
    const t = ctx.listener.telemetry;
    if (!passesAccessLogFilter(ctx, t?.accessLogFilter)) return;
    const format = t?.accessLogFormat;
    telemetry.accessLog.write(format === undefined ? accessLogEntry(ctx, self) : accessLogLine(ctx, self, format));
  };
  return {
    name: 'access-log',
    request(ctx, next) {
      const percent = ctx.listener.telemetry?.accessLogPercent;
      if (percent !== undefined && (percent >= 100 || Math.random() * 100 < percent)) ctx.onDone(write);
      next(ctx);
    },
  };
}
