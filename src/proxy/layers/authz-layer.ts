// Layer: authorization. Evaluates the listener's RBAC rules (from AuthorizationPolicies) on the
// caller's SPIFFE ID (from mTLS), method, path and headers; a denied request gets 403 with the
// deciding policy through the error catalogue. Every decision is counted. Denials are logged at
// warn (seen at the default level) with who asked for what and which policy and rule refused,
// at most DENY_LOG_PER_SECOND lines per policy rule: a flood of denied requests cannot flood the
// log, and what was not written is counted in the next line (`suppressed`). Allows log at debug.
// Listeners without policies pass straight through.
import { createLogger } from '../../common/log.js';
import { LogRateLimit } from '../../common/log-rate-limit.js';
import { authorize } from '../config/authz-config.js';
import { forbidden } from '../errors.js';
import type { Layer } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { ProxyTelemetry } from '../telemetry/proxy-telemetry.js';

const log = createLogger('proxy.authz');

/** Denied-request log lines per second per deciding policy rule (and per listener for "no ALLOW policy matched"). */
export const DENY_LOG_PER_SECOND = 10;

export function authzLayer(metrics: ProxyMetrics, telemetry: ProxyTelemetry): Layer {
  const service = telemetry.identity.service;
  const limit = new LogRateLimit(DENY_LOG_PER_SECOND, (key, suppressed) => {
    log.warn({ service, ...decider(key), suppressed }, `denied requests not logged: over ${DENY_LOG_PER_SECOND} per second for this policy`);
  });
  return (next) => (ctx: RequestContext) => {
    const rules = ctx.listener.authz;
    if (rules === undefined) return next(ctx);
    const d = authorize(rules, { peer: ctx.peerIdentity, path: ctx.path, header: (name) => (name === ':method' ? ctx.method : name === ':path' ? ctx.path : ctx.header(name)) });
    metrics.authzDecision(ctx.direction, ctx.listener.name, d.allowed, d.policy);
    if (d.allowed) {
      log.debug({ listener: ctx.listener.name, peer: ctx.peerIdentity, method: ctx.method, path: ctx.path, policy: d.policy }, 'request allowed');
      return next(ctx);
    }
    const suppressed = limit.admit(d.policy ?? `${NO_POLICY}${ctx.listener.name}`);
    if (suppressed !== false) {
      log.warn({
        source: ctx.peerIdentity ?? 'unauthenticated', sourceAddress: ctx.downstream.remoteAddress ?? null, service, ...decider(d.policy),
        method: ctx.method, path: ctx.path.length > 1024 ? ctx.path.slice(0, 1024) + '…' : ctx.path, listener: ctx.listener.name, reason: d.reason, suppressed,
      }, 'request denied');
    }
    ctx.fail(forbidden(d.reason));
  };
}

/** Rate-limit key prefix of denials no policy decided (an ALLOW set that nothing matched). */
const NO_POLICY = '\0';

/** The translator names RBAC policies `namespace/name/rules[i]`: the policy and the rule apart. */
function decider(key: string | undefined): { policy: string | null; rule: string | null } {
  if (key === undefined || key.startsWith(NO_POLICY)) return { policy: null, rule: null };
  const slash = key.lastIndexOf('/');
  return slash < 0 ? { policy: key, rule: null } : { policy: key.slice(0, slash), rule: key.slice(slash + 1) };
}
