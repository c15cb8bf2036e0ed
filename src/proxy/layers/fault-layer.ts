// Layer: fault injection from the route's FaultConfig, for resilience testing. Requests whose
// headers match (all of the configured ones) are delayed for the configured share, then
// aborted with the configured HTTP or gRPC status for the configured share. Routes without a
// fault config pass straight through.
import { faultAbort } from '../errors.js';
import type { FaultConfig } from '../config/resilience-config.js';
import type { Handler, HttpLayer } from '../http/layer.js';
import type { RoutedRequest } from '../http/request-context.js';

function matches(ctx: RoutedRequest, f: FaultConfig): boolean {
  for (const h of f.headers) if (ctx.header(h.name) !== h.value) return false;
  return true;
}

const chance = (perMillion: number): boolean => perMillion >= 1_000_000 || Math.random() * 1_000_000 < perMillion;

function abortOrContinue(ctx: RoutedRequest, next: Handler<RoutedRequest>, f: FaultConfig): void {
  const a = f.abort;
  if (a !== undefined && chance(a.perMillion)) {
    ctx.fail(faultAbort(ctx.route.name, a.httpStatus, a.grpcStatus));
    return;
  }
  next(ctx);
}

/** After the injected delay: abort or go on, unless the request ended meanwhile. */
function resume(ctx: RoutedRequest, next: Handler<RoutedRequest>): void {
  ctx.faultDelay = undefined;
  if (ctx.done || ctx.error !== undefined) return;
  abortOrContinue(ctx, next, ctx.route.rule.fault!);
}

function cancel(ctx: RoutedRequest): void {
  if (ctx.faultDelay !== undefined) clearTimeout(ctx.faultDelay);
  ctx.faultDelay = undefined;
}

export const faultLayer: HttpLayer<RoutedRequest> = {
  name: 'fault',
  request(ctx, next) {
    const f = ctx.route.rule.fault;
    if (f === undefined || !matches(ctx, f)) {
      next(ctx);
      return;
    }
    const d = f.delay;
    if (d !== undefined && chance(d.perMillion)) {
      ctx.faultDelay = setTimeout(resume, d.ms, ctx, next);
      ctx.onDone(cancel);
      return;
    }
    abortOrContinue(ctx, next, f);
  },
};
