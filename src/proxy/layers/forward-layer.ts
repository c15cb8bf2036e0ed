// The terminal handler: forwards to the chosen endpoint through its connection pool, HTTP/1.1
// for HTTP/1.x clients and one multiplexed h2c session for HTTP/2 clients (gRPC included).
// A cluster with circuit breaker limits opens no HTTP/1.1 connection over its maxConnections:
// the request waits for one in the cluster's pending queue (at most maxPendingRequests wait;
// one more gets 503 CIRCUIT_BREAKER_OPEN, counted as a max_pending_requests rejection).
import { forwardH1 } from '../http/h1-forwarder.js';
import { forwardH2 } from '../http/h2-forwarder.js';
import type { Handler } from '../http/layer.js';
import type { EndpointRequest } from '../http/request-context.js';

const forwardNow = (ctx: EndpointRequest): void => forwardH1(ctx, ctx.endpoint, ctx.cluster.connectTimeoutMs);

export const forward: Handler<EndpointRequest> = (ctx) => {
  const cluster = ctx.cluster;
  if (ctx.downstream.protocol === 'h2') forwardH2(ctx, ctx.endpoint, cluster.connectTimeoutMs);
  else {
    const limits = cluster.config.limits;
    if (limits === undefined) forwardNow(ctx);
    else cluster.runtime.pending.admit(ctx, limits, forwardNow);
  }
};
