// RequestAuthentications as Envoy's JWT filter (envoy.filters.http.jwt_authn) before RBAC on a
// proxy's inbound HTTP listeners: one provider per jwtRule, keys inline (local_jwks) so proxies
// never fetch them, a request without a token let through (allow_missing: authorization decides),
// one with a token that fails refused. Keys from a URL or file are the control plane's latest
// (see control-plane/jwks); a rule whose keys never came gets an empty key set (every token 401).
import type { JwtRule, RequestAuthentication, Service } from '../../api/resource.js';
import type { FilterChain, Listener } from '../../xds/envoy-types.js';
import { FILTER_JWT_AUTHN, JWT_AUTHN, JWT_PAYLOAD_METADATA_KEY, typeUrl } from '../../xds/type-urls.js';
import type { FetchedJwks } from './types.js';

/** Allowed clock difference on `exp` and `nbf`, seconds (Envoy's default). */
export const JWT_CLOCK_SKEW_SECONDS = 60;
const NO_KEYS = '{"keys":[]}';

export interface HttpFilterConfig {
  name: string;
  typedConfig: { '@type': string };
}

/** The RequestAuthentications for an inbound port serving `served` of a proxy in `namespace`, by name. */
export function applicableRequestAuthentications(all: readonly RequestAuthentication[], namespace: string, served: readonly Service[]): RequestAuthentication[] {
  const names = new Set(served.filter((s) => s.metadata.namespace === namespace).map((s) => s.metadata.name));
  return all
    .filter((r) => r.metadata.namespace === namespace && (r.spec.targetRef === undefined || (r.spec.targetRef.kind === 'Service' && names.has(r.spec.targetRef.name))))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/** The key a fetched JWK Set is kept under (see MeshState.jwks): its URL or its file path. */
export const jwksSourceKey = (r: JwtRule): string | undefined => r.jwksUri ?? r.jwksFile;

function keysOf(rule: JwtRule, jwks: ReadonlyMap<string, FetchedJwks> | undefined, where: string, warnings: Set<string>): string {
  if (rule.jwks !== undefined) return rule.jwks;
  const key = jwksSourceKey(rule)!;
  const fetched = jwks?.get(key);
  const from = rule.jwksUri !== undefined ? `jwksUri ${rule.jwksUri}` : `jwksFile ${rule.jwksFile}`;
  if (fetched?.json === undefined) {
    warnings.add(`${where}: no keys yet from ${from}${fetched?.error ? ` (${fetched.error})` : ''}; every token of issuer ${rule.issuer} is refused with 401`);
    return NO_KEYS;
  }
  if (fetched.error !== undefined) warnings.add(`${where}: refreshing the keys from ${from} failed (${fetched.error}); the last keys fetched are used`);
  return fetched.json;
}

function provider(rule: JwtRule, keys: string): object {
  const headers = rule.fromHeaders ?? (rule.fromParams ? [] : [{ name: 'Authorization', prefix: 'Bearer ' }]);
  return {
    issuer: rule.issuer,
    ...(rule.audiences ? { audiences: rule.audiences } : {}),
    localJwks: { inlineString: keys },
    forward: rule.forwardOriginalToken,
    ...(headers.length > 0 ? { fromHeaders: headers.map((h) => ({ name: h.name, ...(h.prefix !== undefined ? { valuePrefix: h.prefix } : {}) })) } : {}),
    ...(rule.fromParams ? { fromParams: rule.fromParams } : {}),
    ...(rule.outputClaimToHeaders ? { claimToHeaders: rule.outputClaimToHeaders.map((c) => ({ headerName: c.header, claimName: c.claim })) } : {}),
    payloadInMetadata: JWT_PAYLOAD_METADATA_KEY,
    clockSkewSeconds: JWT_CLOCK_SKEW_SECONDS,
  };
}

/**
 * The JWT filter for these RequestAuthentications (undefined when none): every request may carry
 * a token of any of their issuers, or none. Problems with keys are added to `warnings`.
 */
export function jwtAuthnFilter(ras: readonly RequestAuthentication[], jwks: ReadonlyMap<string, FetchedJwks> | undefined, warnings: Set<string>): HttpFilterConfig | undefined {
  const providers: Record<string, object> = {};
  for (const ra of ras) {
    ra.spec.jwtRules.forEach((rule, i) => {
      const name = `${ra.metadata.namespace}/${ra.metadata.name}/jwtRules[${i}]`;
      providers[name] = provider(rule, keysOf(rule, jwks, `RequestAuthentication ${name}`, warnings));
    });
  }
  const names = Object.keys(providers);
  if (names.length === 0) return undefined;
  const requirements = [...names.map((providerName) => ({ providerName })), { allowMissing: {} }];
  return {
    name: FILTER_JWT_AUTHN,
    typedConfig: { '@type': typeUrl(JWT_AUTHN), providers, rules: [{ match: { prefix: '/' }, requires: { requiresAny: { requirements } } }] } as { '@type': string },
  };
}

/** The issuers whose tokens these RequestAuthentications accept (what request principals are matched against). */
export const issuersOf = (ras: readonly RequestAuthentication[]): string[] => [...new Set(ras.flatMap((r) => r.spec.jwtRules.map((j) => j.issuer)))].sort();

/** `chain` (an HTTP one) with the JWT filter first, before RBAC; a TCP chain is returned as it is. */
export function chainWithJwt(chain: FilterChain, filter: HttpFilterConfig | undefined): FilterChain {
  const f = chain.filters[chain.filters.length - 1]!;
  if (filter === undefined || f.name !== 'envoy.filters.network.http_connection_manager') return chain;
  const hcm = f.typedConfig;
  return { ...chain, filters: [...chain.filters.slice(0, -1), { ...f, typedConfig: { ...hcm, httpFilters: [filter, ...hcm.httpFilters] } }] };
}

/** `l` with the JWT filter on every HTTP chain. */
export function withJwt(l: Listener, filter: HttpFilterConfig | undefined): Listener {
  return filter === undefined ? l : { ...l, filterChains: l.filterChains.map((c) => chainWithJwt(c, filter)) };
}
