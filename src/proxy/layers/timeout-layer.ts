// Layer: the route's overall timeout. When no complete response went downstream within
// timeoutMs, the upstream exchange is stopped and the client gets 504 (REQUEST_TIMEOUT), or a
// reset when the response had already started. Counted as a timeout of kind request. It bounds
// the wait for an upgrade's 101, not the upgraded connection after it.
import { requestTimeout } from '../errors.js';
import type { HttpLayer } from '../http/layer.js';
import type { BackendRequest } from '../http/request-context.js';

function onTimeout(ctx: BackendRequest): void {
  ctx.routeTimer = undefined;
  // An upgraded connection's response (the 101) is complete: the relay lasts until either side closes.
  if (ctx.status === 101) return;
  // A request the proxy already answered is not ended by this timeout.
  if (ctx.error === undefined) ctx.cluster.runtime.events.timeouts[ctx.direction].request++;
  ctx.fail(requestTimeout(ctx.route.name, ctx.route.timeoutMs));
}

function clearTimer(ctx: BackendRequest): void {
  if (ctx.routeTimer !== undefined) clearTimeout(ctx.routeTimer);
  ctx.routeTimer = undefined;
}

export const timeoutLayer: HttpLayer<BackendRequest> = {
  name: 'timeout',
  request(ctx, next) {
    const ms = ctx.route.timeoutMs;
    if (ms > 0) {
      ctx.routeTimer = setTimeout(onTimeout, ms, ctx);
      ctx.onDone(clearTimer);
    }
    next(ctx);
  },
};
