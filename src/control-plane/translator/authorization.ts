// AuthorizationPolicies as Envoy RBAC filters on a proxy's inbound listeners: one DENY filter
// (any matching DENY rule refuses), then one ALLOW filter when an ALLOW policy applies or the
// mesh denies by default (a request must match an ALLOW rule). A policy applies to an inbound
// port when it targets a Service served there, or has no target and is in the proxy's namespace.
// On TCP listeners, rules over HTTP operations fail closed: an ALLOW rule with `to` never
// matches, a DENY rule with `to` matches on its `from` alone. Header conditions an enforcer
// cannot see as the Trellis proxy does (RbacLimits: a proxyless gRPC server's) fail closed alike,
// and so do conditions on the end user's JWT (requestPrincipals, `when`) where no JWT is seen.
import type { AuthorizationOperation, AuthorizationPolicy, AuthorizationRule, AuthorizationSource, MeshConfigSpec, Service } from '../../api/resource.js';
import type { FilterChain, Listener, NetworkFilter } from '../../xds/envoy-types.js';
import { FILTER_HTTP_RBAC, FILTER_NETWORK_RBAC, HTTP_RBAC, NETWORK_RBAC, typeUrl } from '../../xds/type-urls.js';
import { condition, NEVER_ID, requestPrincipal } from './jwt-principals.js';

/** Envoy RBAC Policy (plain-object form): any principal and any permission must match. */
export interface RbacPolicy {
  permissions: object[];
  principals: object[];
}
export interface RbacRules {
  action: 'ALLOW' | 'DENY';
  policies: Record<string, RbacPolicy>;
}

const ANY = { any: true };
const NEVER = { notRule: { any: true } };

/** How JWT conditions are translated: against these issuers, or (`seen` false) failing closed. */
interface JwtView {
  readonly seen: boolean;
  readonly issuers: readonly string[];
  readonly action: 'ALLOW' | 'DENY';
}

/** A JWT condition where the JWT is seen; elsewhere an ALLOW one never holds and a DENY one is left out (the rest decides). */
function jwtCondition(jwt: JwtView, make: () => object): object | undefined {
  if (jwt.seen) return make();
  return jwt.action === 'ALLOW' ? NEVER_ID : undefined;
}

function principal(td: string, policyNs: string, f: AuthorizationSource, jwt: JwtView): object {
  const ids: object[] = [];
  const push = (id: object | undefined) => id !== undefined && ids.push(id);
  if (f.serviceAccounts) {
    ids.push({
      orIds: {
        ids: f.serviceAccounts.map((sa) => {
          const [ns, name] = sa.includes('/') ? sa.split('/') : [policyNs, sa];
          return { authenticated: { principalName: { exact: `spiffe://${td}/ns/${ns}/sa/${name}` } } };
        }),
      },
    });
  }
  if (f.namespaces) ids.push({ orIds: { ids: f.namespaces.map((ns) => ({ authenticated: { principalName: { prefix: `spiffe://${td}/ns/${ns}/sa/` } } })) } });
  if (f.authenticated) ids.push({ authenticated: { principalName: { prefix: 'spiffe://' } } });
  const { requestPrincipals: rp, notRequestPrincipals: nrp } = f;
  if (rp) push(jwtCondition(jwt, () => ({ orIds: { ids: rp.map((p) => requestPrincipal(p, jwt.issuers)) } })));
  if (nrp) push(jwtCondition(jwt, () => ({ notId: { orIds: { ids: nrp.map((p) => requestPrincipal(p, jwt.issuers)) } } })));
  if (ids.length === 0) return ANY;
  return ids.length === 1 ? ids[0]! : { andIds: { ids } };
}

/** The rule's principals: each `from` source (any caller without one), with every `when` condition added. */
function principalsOf(td: string, policyNs: string, r: AuthorizationRule, jwt: JwtView): object[] {
  const sources = r.from ? r.from.map((f) => principal(td, policyNs, f, jwt)) : [ANY];
  const when = (r.when ?? []).map((c) => jwtCondition(jwt, () => condition(c, jwt.issuers))).filter((x): x is object => x !== undefined);
  if (when.length === 0) return sources;
  return sources.map((p) => ({ andIds: { ids: [...(p === ANY ? [] : [p]), ...when] } }));
}

/** What an enforcer other than the Trellis proxy's HTTP filter does not see of a request as the proxy does. */
export interface RbacLimits {
  /** True for a header (lower-case name) it does not see as the caller sent it. */
  unseenHeader(name: string): boolean;
  /** True when it sees no verified JWT (requestPrincipals and `when` fail closed). */
  readonly unseenJwt?: boolean;
}

function permission(o: AuthorizationOperation, action: 'ALLOW' | 'DENY', limits: RbacLimits | undefined): object {
  const rules: object[] = [];
  if (o.methods) rules.push({ orRules: { rules: o.methods.map((m) => ({ header: { name: ':method', stringMatch: { exact: m } } })) } });
  if (o.paths) rules.push({ orRules: { rules: o.paths.map((p) => ({ urlPath: { path: 'exact' in p ? { exact: p.exact } : { prefix: p.prefix } } })) } });
  for (const h of o.headers ?? []) {
    const name = h.name.toLowerCase();
    // Unseen: an ALLOW condition never holds, a DENY condition is left out (the rest decides).
    if (limits?.unseenHeader(name)) {
      if (action === 'ALLOW') rules.push(NEVER);
      continue;
    }
    rules.push({ header: { name, ...(h.present ? { presentMatch: true } : { stringMatch: h.exact !== undefined ? { exact: h.exact } : { prefix: h.prefix } }) } });
  }
  if (rules.length === 0) return ANY;
  return rules.length === 1 ? rules[0]! : { andRules: { rules } };
}

function rulesOf(
  action: 'ALLOW' | 'DENY',
  policies: readonly AuthorizationPolicy[],
  td: string,
  tcp: boolean,
  limits: RbacLimits | undefined,
  issuers: readonly string[],
): RbacRules {
  const out: Record<string, RbacPolicy> = {};
  const jwt: JwtView = { seen: !tcp && limits?.unseenJwt !== true, issuers, action };
  for (const p of policies) {
    p.spec.rules.forEach((r, i) => {
      const principals = principalsOf(td, p.metadata.namespace, r, jwt);
      const permissions = !r.to ? [ANY] : tcp ? [action === 'ALLOW' ? NEVER : ANY] : r.to.map((o) => permission(o, action, limits));
      out[`${p.metadata.namespace}/${p.metadata.name}/rules[${i}]`] = { permissions, principals };
    });
  }
  return { action, policies: out };
}

/** The policies that apply to an inbound port serving `served` (Services) of a proxy in `namespace`, by name. */
export function applicablePolicies(all: readonly AuthorizationPolicy[], namespace: string, served: readonly Service[]): AuthorizationPolicy[] {
  const names = new Set(served.filter((s) => s.metadata.namespace === namespace).map((s) => s.metadata.name));
  return all
    .filter((p) => p.metadata.namespace === namespace && (p.spec.targetRef === undefined || names.has(p.spec.targetRef.name)))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/**
 * The RBAC rules, in order (DENY, then ALLOW), for these policies; empty when nothing is enforced.
 * `limits`: what the enforcer does not see (absent: the Trellis proxy, which sees everything).
 * `issuers`: whose JWTs the listener verifies (RequestAuthentications), for request principals.
 */
export function rbacRules(
  policies: readonly AuthorizationPolicy[],
  mesh: MeshConfigSpec,
  td: string,
  tcp: boolean,
  limits?: RbacLimits,
  issuers: readonly string[] = [],
): RbacRules[] {
  const deny = policies.filter((p) => p.spec.action === 'DENY' && p.spec.rules.length > 0);
  const allow = policies.filter((p) => p.spec.action === 'ALLOW');
  const out: RbacRules[] = [];
  if (deny.length > 0) out.push(rulesOf('DENY', deny, td, tcp, limits, issuers));
  // Once an ALLOW policy applies, what it does not allow is denied; a mesh-wide default deny is an ALLOW filter with no policy.
  if (allow.length > 0 || mesh.authorization.defaultAction === 'DENY') out.push(rulesOf('ALLOW', allow, td, tcp, limits, issuers));
  return out;
}

/** The RBAC HTTP filters to put before the router. */
export function httpRbacFilters(rules: readonly RbacRules[]): { name: string; typedConfig: { '@type': string } }[] {
  return rules.map((r) => ({ name: FILTER_HTTP_RBAC, typedConfig: { '@type': typeUrl(HTTP_RBAC), rules: r } }));
}

/** The RBAC network filters to put before tcp_proxy. */
export function networkRbacFilters(rules: readonly RbacRules[], statPrefix: string): { name: string; typedConfig: { '@type': string } }[] {
  return rules.map((r) => ({ name: FILTER_NETWORK_RBAC, typedConfig: { '@type': typeUrl(NETWORK_RBAC), statPrefix, rules: r } }));
}

/** `l` (an inbound listener with one filter chain, or two for PERMISSIVE) with the RBAC filters added to every chain. */
export function withRbac(l: Listener, rules: readonly RbacRules[]): Listener {
  if (rules.length === 0) return l;
  return { ...l, filterChains: l.filterChains.map((chain) => chainWithRbac(chain, rules)) };
}

/** One filter chain with the RBAC filters added: network filters before tcp_proxy, HTTP filters before the router. */
export function chainWithRbac(chain: FilterChain, rules: readonly RbacRules[]): FilterChain {
  if (rules.length === 0) return chain;
  const f = chain.filters[0]!;
  if (f.name === 'envoy.filters.network.tcp_proxy') {
    return { ...chain, filters: [...(networkRbacFilters(rules, f.typedConfig.statPrefix) as unknown as NetworkFilter[]), f] };
  }
  const hcm = f.typedConfig;
  return { ...chain, filters: [{ ...f, typedConfig: { ...hcm, httpFilters: [...httpRbacFilters(rules), ...hcm.httpFilters] } }] };
}
