// The terminal handler: forwards to the chosen endpoint through its connection pool, in the
// protocol the cluster declares for its endpoints (the app port's appProtocol) or else the
// client's: HTTP/1.1 over a pooled keep-alive connection, HTTP/2 (gRPC included) as a stream
// on the endpoint's one multiplexed h2c session, translating heads, bodies and trailers when the
// two differ. gRPC to an HTTP/1.1-only cluster is refused with a gRPC error naming the protocol.
// A cluster with circuit breaker limits opens no HTTP/1.1 connection over its maxConnections:
// the request waits for one in the cluster's pending queue (at most maxPendingRequests wait;
// one more gets 503 CIRCUIT_BREAKER_OPEN, counted as a max_pending_requests rejection).
import { grpcNeedsHttp2 } from '../errors.js';
import type { H1Downstream } from '../http/h1-downstream.js';
import { forwardH1 } from '../http/h1-forwarder.js';
import { forwardH1ToH2 } from '../http/h1-to-h2-forwarder.js';
import { forwardH2 } from '../http/h2-forwarder.js';
import { forwardH2ToH1 } from '../http/h2-as-h1-downstream.js';
import type { Handler } from '../http/layer.js';
import type { EndpointRequest } from '../http/request-context.js';

const forwardNow = (ctx: EndpointRequest): void => forwardH1(ctx, ctx.endpoint, ctx.cluster.connectTimeoutMs);
const forwardTranslatedNow = (ctx: EndpointRequest): void => forwardH2ToH1(ctx, ctx.endpoint, ctx.cluster.connectTimeoutMs);

export const forward: Handler<EndpointRequest> = (ctx) => {
  const cluster = ctx.cluster;
  const client = ctx.downstream.protocol;
  const upstream = cluster.config.upstreamProtocol ?? client;
  // A WebSocket upgrade has no HTTP/2 form here (no extended CONNECT): it goes as HTTP/1.1 whatever the port declares.
  if (upstream === 'h2' && (client === 'h2' || (ctx.downstream as H1Downstream).head.upgrade === undefined)) {
    if (client === 'h2') forwardH2(ctx, ctx.endpoint, cluster.connectTimeoutMs);
    else forwardH1ToH2(ctx, ctx.endpoint, cluster.connectTimeoutMs);
    return;
  }
  if (client === 'h2' && ctx.header('content-type')?.startsWith('application/grpc') === true) return ctx.fail(grpcNeedsHttp2(cluster.config.name));
  const limits = cluster.config.limits;
  const send = client === 'h2' ? forwardTranslatedNow : forwardNow;
  if (limits === undefined) send(ctx);
  else cluster.runtime.pending.admit(ctx, limits, send);
};
