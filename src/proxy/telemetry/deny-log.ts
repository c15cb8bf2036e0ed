// Denied requests and connections, logged at warn (seen at the default level) with who asked
// for what and which policy rule refused: at most DENY_LOG_PER_SECOND lines per second per
// policy rule, so a flood of denials cannot flood the log; what is not written is counted in
// the rule's next line (`suppressed`), or in a report when its second ends. One limiter for
// the process: HTTP (authz layer) and TCP (listeners) denials of one rule share the bound.
import { createLogger } from '../../common/log.js';
import { LogRateLimit } from '../../common/log-rate-limit.js';

const log = createLogger('proxy.authz');

/** Denial log lines per second per deciding policy rule (and per listener for "no ALLOW policy matched"). */
export const DENY_LOG_PER_SECOND = 10;

/** What a denial line says. */
export interface Denial {
  /** The caller's SPIFFE ID from mTLS; undefined when it came in plaintext. */
  readonly peer: string | undefined;
  readonly sourceAddress: string | undefined;
  /** The Service whose proxy refused (`name.namespace`), when known. */
  readonly service?: string;
  readonly listener: string;
  /** The deciding RBAC policy (`namespace/name/rules[i]`); undefined when no ALLOW policy matched. */
  readonly policy: string | undefined;
  readonly reason: string;
  readonly method?: string;
  readonly path?: string;
}

const MAX_PATH = 1024;
/** Rate-limit key prefix of denials no policy decided (an ALLOW set that nothing matched). */
const NO_POLICY = '\0';

const limit = new LogRateLimit(DENY_LOG_PER_SECOND, (key, suppressed) => {
  log.warn({ ...decider(key), suppressed }, `denied requests not logged: over ${DENY_LOG_PER_SECOND} per second for this policy`);
});

/** Logs `d` (a request when it has a method, else a connection) unless its rule is over the bound. */
export function logDenial(d: Denial): void {
  const suppressed = limit.admit(d.policy ?? `${NO_POLICY}${d.listener}`);
  if (suppressed === false) return;
  const request = d.method !== undefined;
  log.warn(
    {
      source: d.peer ?? 'unauthenticated',
      sourceAddress: d.sourceAddress ?? null,
      ...(d.service !== undefined ? { service: d.service } : {}),
      ...decider(d.policy),
      ...(request ? { method: d.method, path: d.path !== undefined && d.path.length > MAX_PATH ? d.path.slice(0, MAX_PATH) + '…' : d.path } : {}),
      listener: d.listener,
      reason: d.reason,
      suppressed,
    },
    request ? 'request denied' : 'connection denied',
  );
}

/** The translator names RBAC policies `namespace/name/rules[i]`: the policy and the rule apart. */
function decider(key: string | undefined): { policy: string | null; rule: string | null } {
  if (key === undefined || key.startsWith(NO_POLICY)) return { policy: null, rule: null };
  const slash = key.lastIndexOf('/');
  return slash < 0 ? { policy: key, rule: null } : { policy: key.slice(0, slash), rule: key.slice(slash + 1) };
}
