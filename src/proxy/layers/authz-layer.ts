// Layer: authorization. Evaluates the listener's RBAC rules (from AuthorizationPolicies) on the
// caller's SPIFFE ID (from mTLS), the end user's verified JWT (jwt layer), method, path
// (normalized by the request-target layer) and headers; a denied request gets 403 with the
// deciding policy through the error catalogue.
// Every decision is counted; denials are logged at warn, rate-limited per policy rule
// (telemetry/deny-log.ts), allows at debug. Listeners without policies pass straight through.
import { createLogger } from '../../common/log.js';
import { authorize } from '../config/authz-config.js';
import { forbidden } from '../errors.js';
import type { HttpLayer } from '../http/layer.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { logDenial } from '../telemetry/deny-log.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

const log = createLogger('proxy.authz');

export function authzLayer(metrics: ProxyMetrics, telemetry: ProxyTelemetry): HttpLayer {
  const service = telemetry.identity.service;
  return {
    name: 'authz',
    request(ctx, next) {
      const rules = ctx.listener.authz;
      if (rules === undefined) return next(ctx);
      const d = authorize(rules, {
        peer: ctx.peerIdentity,
        path: ctx.path,
        header: (name) => (name === ':method' ? ctx.method : name === ':path' ? ctx.path : ctx.header(name)),
        ...(ctx.jwt !== undefined ? { jwt: ctx.jwt.payload } : {}),
      });
      metrics.authzDecision(ctx.direction, ctx.listener.name, d.allowed, d.policy);
      if (d.allowed) {
        log.debug({ listener: ctx.listener.name, peer: ctx.peerIdentity, method: ctx.method, path: ctx.path, policy: d.policy }, 'request allowed');
        return next(ctx);
      }
      logDenial({
        peer: ctx.peerIdentity,
        sourceAddress: ctx.downstream.remoteAddress,
        service,
        listener: ctx.listener.name,
        policy: d.policy,
        reason: d.reason,
        method: ctx.method,
        path: ctx.path,
      });
      ctx.fail(forbidden(d.reason));
    },
  };
}
