// Authorization on a proxyless gRPC server: the sidecar's RBAC rules (authorization.ts), enforced
// by gRPC's RBAC filter (A41) in the application process. What that filter does not see of a
// call as the Trellis proxy does fails closed (RbacLimits), and each rule it touches is warned of.
// What grpc-js 1.14 sees: principals from the peer certificate's URI SANs (Trellis certificates
// carry only the SPIFFE ID), the path, the call's metadata, and `:method` always POST.
import type { AuthorizationPolicy } from '../../api/resource.js';
import type { RbacLimits } from './authorization.js';

// grpc-js drops these from a call's metadata before its filters run (te, the encodings, the
// timeout), shows a constant (content-type: application/grpc) or its own value (grpc-route).
const UNSEEN_HEADERS: ReadonlySet<string> = new Set(['te', 'content-type', 'accept-encoding', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'grpc-route']);
// The pseudo-headers gRPC's RBAC sets for a call; it has no others.
const SEEN_PSEUDO_HEADERS: ReadonlySet<string> = new Set([':method', ':path', ':authority']);

/** What gRPC's RBAC filter does not see as the caller sent it: the headers above, binary (`-bin`) metadata (never matches), other pseudo-headers. */
export const GRPC_RBAC_LIMITS: RbacLimits = {
  unseenHeader: (name) => UNSEEN_HEADERS.has(name) || name.endsWith('-bin') || (name.startsWith(':') && !SEEN_PSEUDO_HEADERS.has(name)),
  // No JWT filter runs in a proxyless server: conditions on the end user's token fail closed.
  unseenJwt: true,
};

/** True if a method condition holds for POST, the only method gRPC's RBAC sees. */
const holdsForPost = (m: { exact?: string; prefix?: string }): boolean => m.exact === 'POST' || (m.prefix !== undefined && 'POST'.startsWith(m.prefix));

/**
 * Adds a warning (prefixed `where`) for each operation of `policies` that gRPC's RBAC evaluates
 * otherwise than the sidecar: unseen headers (an ALLOW never matches, a DENY goes without them)
 * and methods other than POST (never match: gRPC runs a call by its path whatever its HTTP
 * method, so a non-POST call is the same call as the POST one its rules decide).
 */
export function grpcRbacWarnings(policies: readonly AuthorizationPolicy[], where: string, warnings: Set<string>): void {
  for (const p of policies) {
    const allow = p.spec.action === 'ALLOW';
    p.spec.rules.forEach((r, i) => {
      const jwt = (r.from ?? []).some((f) => f.requestPrincipals || f.notRequestPrincipals) || r.when !== undefined;
      if (jwt) {
        const effect = allow ? 'this ALLOW rule never matches here' : 'this DENY rule matches without those conditions';
        warnings.add(
          `${where}: AuthorizationPolicy ${p.metadata.namespace}/${p.metadata.name} rules[${i}]: a proxyless gRPC server sees no end-user JWT (requestPrincipals, notRequestPrincipals, when); ${effect}`,
        );
      }
      r.to?.forEach((o, j) => {
        const at = `${where}: AuthorizationPolicy ${p.metadata.namespace}/${p.metadata.name} rules[${i}].to[${j}]`;
        const unseen = (o.headers ?? []).map((h) => h.name.toLowerCase()).filter((n) => GRPC_RBAC_LIMITS.unseenHeader(n));
        if (unseen.length > 0) {
          const effect = allow ? 'this ALLOW operation never matches here' : 'this DENY operation matches without those conditions';
          warnings.add(`${at}: gRPC's RBAC does not see header ${unseen.join(', ')} as the caller sent it; ${effect}`);
        }
        const notPost = (o.methods !== undefined && !o.methods.includes('POST')) || (o.headers ?? []).some((h) => h.name === ':method' && !h.present && !holdsForPost(h));
        if (notPost) {
          const effect = allow ? 'this ALLOW operation never matches here' : 'this DENY operation denies nothing here';
          warnings.add(`${at}: gRPC's RBAC sees every call as POST (a gRPC server runs a call by its path whatever its method); ${effect}`);
        }
      });
    });
  }
}
