// Authorization on the end user's JWT as Envoy RBAC principals: metadata matchers on the payload
// the JWT filter keeps (filter envoy.filters.http.jwt_authn, key JWT_PAYLOAD_METADATA_KEY), as
// Istio matches `request.auth.*`. A request principal is `iss/sub`; Envoy cannot match a joined
// string, so each pattern is split against the issuers the listener accepts (an issuer may hold
// `/` itself): a pattern no accepted issuer can produce never matches.
import type { AuthorizationCondition } from '../../api/resource.js';
import { FILTER_JWT_AUTHN, JWT_PAYLOAD_METADATA_KEY } from '../../xds/type-urls.js';

/** A principal that never matches. */
export const NEVER_ID = { notId: { any: true } };

type StringMatcher = { exact: string } | { prefix: string } | { suffix: string };

/** Istio's patterns: `*` (present), `prefix*`, `*suffix`, else exact. */
function matcherOf(p: string): StringMatcher | 'present' {
  if (p === '*') return 'present';
  if (p.endsWith('*')) return { prefix: p.slice(0, -1) };
  if (p.startsWith('*')) return { suffix: p.slice(1) };
  return { exact: p };
}

const meta = (path: readonly string[], value: object): object => ({
  metadata: { filter: FILTER_JWT_AUTHN, path: [JWT_PAYLOAD_METADATA_KEY, ...path].map((key) => ({ key })), value },
});
const anyOf = (ids: object[]): object => (ids.length === 0 ? NEVER_ID : ids.length === 1 ? ids[0]! : { orIds: { ids } });
const allOf = (ids: object[]): object => (ids.length === 1 ? ids[0]! : { andIds: { ids } });

/** A claim that is a string matching `m`, or a list holding one (a claim keeps its JSON type in the payload). */
function claim(path: readonly string[], pattern: string): object {
  const m = matcherOf(pattern);
  if (m === 'present') return meta(path, { presentMatch: true });
  return anyOf([meta(path, { stringMatch: m }), meta(path, { listMatch: { oneOf: { stringMatch: m } } })]);
}

/** The `sub` matchers that make `iss/sub` end with `suffix` for issuer `iss`. */
function subsForSuffix(head: string, suffix: string): StringMatcher[] {
  const out: StringMatcher[] = [{ suffix }];
  // Part of the suffix may lie in `iss/`: the rest is then all of `sub`.
  for (let k = 1; k <= suffix.length; k++) if (head.endsWith(suffix.slice(0, k))) out.push({ exact: suffix.slice(k) });
  return out;
}

/** A request principal pattern (`iss/sub`, `*`, `prefix*`, `*suffix`) for a token of one of `issuers`. */
export function requestPrincipal(pattern: string, issuers: readonly string[]): object {
  const alts: object[] = [];
  for (const iss of issuers) {
    const head = `${iss}/`;
    let subs: (StringMatcher | 'present')[] = [];
    if (pattern === '*') subs = ['present'];
    else if (pattern.endsWith('*')) {
      const prefix = pattern.slice(0, -1);
      if (head.startsWith(prefix)) subs = ['present'];
      else if (prefix.startsWith(head)) subs = [{ prefix: prefix.slice(head.length) }];
    } else if (pattern.startsWith('*')) subs = subsForSuffix(head, pattern.slice(1));
    else if (pattern.startsWith(head)) subs = [{ exact: pattern.slice(head.length) }];
    if (subs.length === 0) continue;
    const sub = anyOf(subs.map((m) => meta(['sub'], m === 'present' ? { presentMatch: true } : { stringMatch: m })));
    alts.push(allOf([meta(['iss'], { stringMatch: { exact: iss } }), sub]));
  }
  return anyOf(alts);
}

/** The payload path of a condition key other than request.auth.principal (`[a][b]` of claims, aud, azp). */
export function conditionPath(key: string): string[] {
  if (key === 'request.auth.audiences') return ['aud'];
  if (key === 'request.auth.presenter') return ['azp'];
  return [...key.slice('request.auth.claims'.length).matchAll(/\[([^[\]]+)\]/g)].map((m) => m[1]!);
}

/** One `when` condition: its value is one of `values` and none of `notValues`. */
export function condition(c: AuthorizationCondition, issuers: readonly string[]): object {
  const one = c.key === 'request.auth.principal' ? (p: string) => requestPrincipal(p, issuers) : (p: string) => claim(conditionPath(c.key), p);
  const ids: object[] = [];
  if (c.values) ids.push(anyOf(c.values.map(one)));
  if (c.notValues) ids.push({ notId: anyOf(c.notValues.map(one)) });
  return allOf(ids);
}
