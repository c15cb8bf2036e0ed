// Layer: the cluster's circuit breaker. With limits configured, a request over maxRequests in
// flight to the cluster fails fast with 503 (CIRCUIT_BREAKER_OPEN in x-trellis-error) instead
// of adding to the load (a request waiting for a connection, see pending-requests.ts, is in
// flight). Clusters without limits pass straight through. Rejections are counted (max_requests).
import { circuitBreakerOpen } from '../errors.js';
import type { HttpLayer } from '../http/layer.js';
import type { BackendRequest } from '../http/request-context.js';

function release(ctx: BackendRequest): void {
  ctx.cluster.runtime.activeRequests--;
}

export const circuitBreakerLayer: HttpLayer<BackendRequest> = {
  name: 'circuit-breaker',
  request(ctx, next) {
    const cluster = ctx.cluster;
    const limits = cluster.config.limits;
    if (limits === undefined) {
      next(ctx);
      return;
    }
    const rt = cluster.runtime;
    if (rt.activeRequests >= limits.maxRequests) {
      rt.events.breakerRejections.max_requests++;
      ctx.fail(circuitBreakerOpen(cluster.name, 'maxRequests', limits.maxRequests));
      return;
    }
    rt.activeRequests++;
    ctx.onDone(release);
    next(ctx);
  },
};
