// The layers an inbound request (from the mesh to the local app) passes through, outermost
// first. Rate limits will go between authorization and routing.
import { authzLayer } from '../layers/authz-layer.js';
import { jwtLayer } from '../layers/jwt-layer.js';
import { balanceLayer } from '../layers/balance-layer.js';
import { clusterPickLayer } from '../layers/cluster-pick-layer.js';
import { accessLogLayer } from '../layers/access-log-layer.js';
import { forward } from '../layers/forward-layer.js';
import { metricsLayer } from '../layers/metrics-layer.js';
import { requestTargetLayer } from '../layers/request-target-layer.js';
import { retryLayer } from '../layers/retry-layer.js';
import { routeLayer } from '../layers/route-layer.js';
import { sourceLayer } from '../layers/source-layer.js';
import { tapLayer } from '../layers/tap-layer.js';
import { timeoutLayer } from '../layers/timeout-layer.js';
import { traceLayer } from '../layers/trace-layer.js';
import { StackBuilder, type HttpStack } from './layer.js';
import type { StackDeps } from './outbound-stack.js';

export function buildInboundStack(deps: StackDeps): HttpStack {
  return StackBuilder.top()
    .then(sourceLayer(deps.telemetry)) // who calls: this workload (outbound) or x-trellis-source (inbound)
    .then(metricsLayer(deps.metrics, deps.telemetry)) // counts every request, including the proxy's own answers
    .then(requestTargetLayer) // origin-form, normalized path (400) before anything judges it
    .then(jwtLayer) // RequestAuthentications: the end user's JWT verified (401), its principal and claims kept
    .then(authzLayer(deps.metrics, deps.telemetry)) // AuthorizationPolicies on the caller's identity, end user and request (403)
    .then(traceLayer(deps.telemetry)) // continues or starts the trace, records this hop's span
    .then(accessLogLayer(deps.telemetry)) // sampled JSON access log lines
    .then(tapLayer(deps.telemetry)) // live tap while someone watches
    .then(routeLayer) // virtual host + rule (404 when none)
    .then(clusterPickLayer) // the local app's cluster
    .then(timeoutLayer) // route timeout (504)
    .then(retryLayer) // a request the app's keep-alive race dropped unprocessed goes again (and a route's policy, if it has one)
    .then(balanceLayer) // endpoint (the app)
    .end(forward); // connection pool to the app
}
