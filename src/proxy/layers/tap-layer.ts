// Layer: live tap. While someone watches (admin /tap), every finished request's metadata goes
// to the tap hub, which applies each watcher's filter. Costs one check per request otherwise.
import type { HttpLayer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import type { TapEvent } from '../telemetry/tap-hub.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

export function tapLayer(telemetry: ProxyTelemetry): HttpLayer {
  const hub = telemetry.tap;
  const self = telemetry.identity.service;
  const publish = (ctx: RequestContext): void => {
    if (!hub.active) return;
    const e: TapEvent = {
      time: new Date(performance.timeOrigin + ctx.startTime).toISOString(),
      direction: ctx.direction,
      method: ctx.method,
      authority: ctx.authority,
      path: ctx.path,
      status: ctx.status,
      durationMs: Math.round((performance.now() - ctx.startTime) * 1000) / 1000,
      requestBytes: ctx.requestBytes,
      responseBytes: ctx.responseBytes,
      sourceService: ctx.sourceService,
      sourceWorkload: ctx.sourceWorkload,
      service: ctx.direction === 'inbound' ? self : (ctx.cluster?.service ?? 'unknown'),
      route: ctx.route?.name ?? '',
    };
    if (ctx.grpcStatus >= 0) e.grpcStatus = ctx.grpcStatus;
    if (ctx.endpoint !== undefined) e.endpoint = ctx.endpoint.key;
    if (ctx.trace !== undefined) e.traceId = ctx.trace.traceId;
    if (ctx.error !== undefined) e.proxyError = ctx.error.code;
    hub.publish(e);
  };
  return {
    name: 'tap',
    request(ctx, next) {
      if (hub.active) ctx.onDone(publish);
      next(ctx);
    },
  };
}
