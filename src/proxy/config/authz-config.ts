// Authorization as the proxy holds it (decoded from Envoy RBAC filters), and its evaluation:
// rules run in order; a DENY rule set refuses when one of its policies matches, an ALLOW rule
// set refuses when none does. Pure functions over plain values: the hot path allocates nothing
// when no policy is configured. Principals may match the end user's verified JWT (its payload,
// as RBAC's metadata matchers on the JWT filter read it).

export type StringMatch = { readonly exact: string } | { readonly prefix: string } | { readonly suffix: string };

/** What a JWT payload value must be: a string, a list holding a matching string, or present at all. */
export type ValueMatch = { readonly string: StringMatch } | { readonly listOneOf: StringMatch } | { readonly present: true };

export type PrincipalMatch =
  | { readonly any: true }
  | { readonly and: readonly PrincipalMatch[] }
  | { readonly or: readonly PrincipalMatch[] }
  | { readonly not: PrincipalMatch }
  /** The verified JWT payload's value at `path` (claim names, outermost first); never matches without a token. */
  | { readonly jwt: { readonly path: readonly string[]; readonly value: ValueMatch } }
  /** A caller with a mesh identity, whose SPIFFE ID matches (any identity when undefined). */
  | { readonly authenticated: StringMatch | undefined };

export type PermissionMatch =
  | { readonly any: true }
  | { readonly not: PermissionMatch }
  | { readonly and: readonly PermissionMatch[] }
  | { readonly or: readonly PermissionMatch[] }
  | { readonly header: { readonly name: string; readonly match: StringMatch | { readonly present: true } } }
  | { readonly path: StringMatch };

export interface AuthzPolicy {
  readonly name: string;
  readonly principals: readonly PrincipalMatch[];
  readonly permissions: readonly PermissionMatch[];
}

export interface AuthzRules {
  readonly action: 'allow' | 'deny';
  readonly policies: readonly AuthzPolicy[];
}

/** What a decision is made on; `header` is absent for TCP connections (HTTP conditions never match). */
export interface AuthzRequest {
  readonly peer: string | undefined;
  readonly path?: string;
  header?(lowerName: string): string | undefined;
  /** The verified JWT's payload (request authentication); absent without one. */
  readonly jwt?: Readonly<Record<string, unknown>>;
}

export type AuthzDecision = { readonly allowed: true; readonly policy?: string } | { readonly allowed: false; readonly policy?: string; readonly reason: string };

const str = (m: StringMatch, v: string): boolean => ('exact' in m ? v === m.exact : 'prefix' in m ? v.startsWith(m.prefix) : v.endsWith(m.suffix));

function jwtValue(payload: Readonly<Record<string, unknown>> | undefined, path: readonly string[], m: ValueMatch): boolean {
  let v: unknown = payload;
  for (let i = 0; i < path.length && v !== undefined; i++) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[path[i]!] : undefined;
  if (v === undefined) return false;
  if ('present' in m) return true;
  if ('string' in m) return typeof v === 'string' && str(m.string, v);
  return Array.isArray(v) && v.some((x) => typeof x === 'string' && str(m.listOneOf, x));
}

function principal(p: PrincipalMatch, r: AuthzRequest): boolean {
  if ('any' in p) return true;
  if ('and' in p) return p.and.every((x) => principal(x, r));
  if ('or' in p) return p.or.some((x) => principal(x, r));
  if ('not' in p) return !principal(p.not, r);
  if ('jwt' in p) return jwtValue(r.jwt, p.jwt.path, p.jwt.value);
  return r.peer !== undefined && (p.authenticated === undefined || str(p.authenticated, r.peer));
}

function permission(p: PermissionMatch, r: AuthzRequest): boolean {
  if ('any' in p) return true;
  if ('not' in p) return !permission(p.not, r);
  if ('and' in p) return p.and.every((x) => permission(x, r));
  if ('or' in p) return p.or.some((x) => permission(x, r));
  if ('path' in p) {
    if (r.path === undefined) return false;
    const q = r.path.indexOf('?');
    return str(p.path, q < 0 ? r.path : r.path.slice(0, q));
  }
  const v = r.header?.(p.header.name);
  if (v === undefined) return false;
  return 'present' in p.header.match || str(p.header.match, v);
}

const matches = (policy: AuthzPolicy, r: AuthzRequest): boolean => policy.principals.some((x) => principal(x, r)) && policy.permissions.some((x) => permission(x, r));

/** The decision for `r` under `rules` (see the header comment). */
export function authorize(rules: readonly AuthzRules[], r: AuthzRequest): AuthzDecision {
  let allowedBy: string | undefined;
  for (const set of rules) {
    const hit = set.policies.find((p) => matches(p, r));
    if (set.action === 'deny' && hit) return { allowed: false, policy: hit.name, reason: `denied by policy ${hit.name}` };
    if (set.action === 'allow') {
      if (!hit) return { allowed: false, reason: set.policies.length === 0 ? 'denied: no policy allows any request here (default deny)' : 'denied: no ALLOW policy matches' };
      allowedBy = hit.name;
    }
  }
  return allowedBy === undefined ? { allowed: true } : { allowed: true, policy: allowedBy };
}
