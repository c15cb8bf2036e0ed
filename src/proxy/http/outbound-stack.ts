// The layers an outbound request (from the local app to the mesh) passes through, outermost
// first. The order is the contract; add a concern by adding a line.
import { balanceLayer } from '../layers/balance-layer.js';
import { circuitBreakerLayer } from '../layers/circuit-breaker-layer.js';
import { faultLayer } from '../layers/fault-layer.js';
import { mirrorLayer } from '../layers/mirror-layer.js';
import { rateLimitLayer } from '../layers/rate-limit-layer.js';
import { redirectLayer } from '../layers/redirect-layer.js';
import { rewriteLayer } from '../layers/rewrite-layer.js';
import { retryLayer } from '../layers/retry-layer.js';
import { clusterPickLayer } from '../layers/cluster-pick-layer.js';
import { accessLogLayer } from '../layers/access-log-layer.js';
import { forward } from '../layers/forward-layer.js';
import { metricsLayer } from '../layers/metrics-layer.js';
import { requestTargetLayer } from '../layers/request-target-layer.js';
import { routeLayer } from '../layers/route-layer.js';
import { sourceLayer } from '../layers/source-layer.js';
import { tapLayer } from '../layers/tap-layer.js';
import { timeoutLayer } from '../layers/timeout-layer.js';
import { traceLayer } from '../layers/trace-layer.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';
import { StackBuilder, type HttpStack } from './layer.js';

export interface StackDeps {
  readonly metrics: ProxyMetrics;
  readonly telemetry: ProxyTelemetry;
}

export function buildOutboundStack(deps: StackDeps): HttpStack {
  return StackBuilder.top()
    .then(sourceLayer(deps.telemetry)) // who calls: this workload (outbound) or x-trellis-source (inbound)
    .then(metricsLayer(deps.metrics, deps.telemetry)) // counts every request, including the proxy's own answers
    .then(requestTargetLayer) // origin-form, normalized path (400) before anything judges it
    .then(traceLayer(deps.telemetry)) // continues or starts the trace, records this hop's span
    .then(accessLogLayer(deps.telemetry)) // sampled JSON access log lines
    .then(tapLayer(deps.telemetry)) // live tap while someone watches
    .then(routeLayer) // virtual host + rule (404 when none)
    .then(rateLimitLayer) // local token bucket of the route (429)
    .then(faultLayer) // injected delay / abort of the route
    .then(redirectLayer) // redirect routes answer here (3xx)
    .then(rewriteLayer) // path / host rewrite of the route
    .then(mirrorLayer) // shadow copies to the route's mirror clusters (answers dropped)
    .then(clusterPickLayer) // weighted split among the rule's backends
    .then(circuitBreakerLayer) // cluster's maxRequests in flight (503, fail fast)
    .then(timeoutLayer) // route timeout (504) around everything below
    .then(retryLayer) // per-try timeout, retries with backoff and budget
    .then(balanceLayer) // endpoint from the cluster's picker (ring hash, outliers ejected)
    .end(forward); // connection pool
}
