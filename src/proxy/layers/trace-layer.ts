// Layer: distributed tracing. Continues the caller's trace (W3C traceparent, or B3) or starts
// one, sampled by the listener's percentage (the caller's decision wins when it made one);
// passes the context and the decision on with this hop's span id, sampled or not, and records
// the span (SERVER inbound, CLIENT outbound) of a sampled request when it is over. Listeners
// without tracing config skip all of it.
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import { addUpstreamHeader } from '../http/upstream-headers.js';
import { KNOWN_METHODS, methodIndex } from '../metrics/http-semconv.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';
import { newSpanId, newTraceId } from '../tracing/ids.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, STATUS_UNSET, type SpanAttribute } from '../tracing/span.js';
import { readTraceContext, TraceFormat, traceHeaders } from '../tracing/trace-context.js';

const OTHER_METHOD = KNOWN_METHODS.length - 1;

/** A span's name by OpenTelemetry's HTTP conventions: `GET route`, `GET` with no route, `HTTP` for `_OTHER`. */
export function spanName(method: string, route: string | undefined): string {
  const m = method === '_OTHER' ? 'HTTP' : method;
  return route === undefined || route === '' ? m : `${m} ${route}`;
}

/** `host[:port]` or `[v6]:port` split; the port only when it is a number. */
export function splitHostPort(hostPort: string): { host: string; port: number | undefined } {
  const colon = hostPort.lastIndexOf(':');
  const close = hostPort.lastIndexOf(']');
  if (colon < 0 || colon < close || (close < 0 && hostPort.indexOf(':') !== colon)) return { host: hostPort.startsWith('[') ? hostPort.slice(1, -1) : hostPort, port: undefined };
  const port = Number(hostPort.slice(colon + 1));
  const host = hostPort.slice(hostPort.startsWith('[') ? 1 : 0, close > 0 ? close : colon);
  return Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : { host, port: undefined };
}

export function traceLayer(telemetry: ProxyTelemetry): HttpLayer {
  const self = telemetry.identity;
  const record = (ctx: RequestContext): void => {
    const t = ctx.trace!;
    const collector = telemetry.collectorFor(ctx.listener.telemetry);
    if (collector === undefined) return;
    const protocol = ctx.listener.telemetry?.collectorProtocol ?? 'http/protobuf';
    const inbound = ctx.direction === 'inbound';
    const service = inbound ? self.service : (ctx.cluster?.service ?? 'unknown');
    const q = ctx.path.indexOf('?');
    const method = methodIndex(ctx.method) === OTHER_METHOD ? '_OTHER' : ctx.method;
    const host = splitHostPort(ctx.authority);
    const attributes: Record<string, SpanAttribute> = {
      'http.request.method': method,
      'url.path': q < 0 ? ctx.path : ctx.path.slice(0, q),
      'url.scheme': ctx.listener.tls !== undefined ? 'https' : 'http',
      'server.address': host.host,
      'http.response.status_code': ctx.status,
      'network.protocol.version': ctx.downstream.protocol === 'h2' ? '2' : '1.1',
      'trellis.direction': ctx.direction,
      'trellis.source.service': ctx.sourceService,
      'trellis.source.workload': ctx.sourceWorkload,
      'trellis.source.authenticated': ctx.sourceAuthenticated,
      'trellis.destination.service': service,
    };
    if (host.port !== undefined) attributes['server.port'] = host.port;
    if (method === '_OTHER') attributes['http.request.method_original'] = ctx.method;
    if (ctx.route !== undefined) attributes['http.route'] = attributes['trellis.route'] = ctx.route.name;
    // The peer is the caller on a SERVER span, the upstream endpoint on a CLIENT span; addresses never carry the port.
    if (inbound) {
      const client = ctx.downstream.remoteAddress;
      if (client !== undefined) attributes['client.address'] = attributes['network.peer.address'] = client;
    } else if (ctx.endpoint !== undefined) {
      const peer = splitHostPort(ctx.endpoint.key);
      attributes['network.peer.address'] = peer.host;
      if (peer.port !== undefined) attributes['network.peer.port'] = peer.port;
    }
    if (ctx.grpcStatus >= 0) attributes['rpc.grpc.status_code'] = ctx.grpcStatus;
    const failed = ctx.error !== undefined || ctx.status >= 500 || ctx.status === 0 || (!inbound && ctx.status >= 400);
    if (ctx.error !== undefined) attributes['error.type'] = ctx.error.code;
    else if (failed) attributes['error.type'] = String(ctx.status);
    const origin = performance.timeOrigin;
    telemetry.exporter.record(
      collector,
      {
        traceId: t.traceId,
        spanId: t.spanId,
        parentSpanId: t.parentSpanId,
        traceState: t.traceState,
        // OpenTelemetry's span name: `{method} {http.route}`, `HTTP` for an unknown method.
        name: spanName(method, ctx.route?.name),
        kind: inbound ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT,
        startMs: origin + ctx.startTime,
        endMs: origin + performance.now(),
        attributes,
        statusCode: failed ? STATUS_ERROR : STATUS_UNSET,
        // Spans stay inside the mesh: they keep the detail (the endpoint) the client was not told.
        statusMessage: ctx.error?.detail === undefined ? ctx.error?.message : `${ctx.error.message} (${ctx.error.detail})`,
      },
      protocol,
    );
  };
  return {
    name: 'trace',
    request(ctx, next) {
      const percent = ctx.listener.telemetry?.tracingPercent;
      if (percent === undefined) return next(ctx);
      const incoming = readTraceContext(ctx);
      const sampled = incoming?.sampled ?? (percent >= 100 || Math.random() * 100 < percent);
      // Unsampled requests carry the decision on too (flag 00), so no proxy downstream decides
      // again and a trace is recorded whole or not at all.
      const traceId = incoming?.traceId ?? newTraceId();
      const spanId = newSpanId();
      const parentSpanId = incoming?.parentSpanId;
      ctx.trace = { traceId, spanId, parentSpanId, sampled, traceState: incoming?.traceState };
      const h = traceHeaders(traceId, spanId, parentSpanId, sampled, incoming?.format ?? TraceFormat.None);
      for (let i = 0; i < h.length; i += 2) addUpstreamHeader(ctx, h[i]!, h[i + 1]!);
      if (sampled) ctx.onDone(record);
      next(ctx);
    },
  };
}
