// Gateway API HTTPRouteMatch → Envoy RouteMatch.
import type { HTTPPathMatch, HTTPRouteMatch } from '../../api/resource.js';
import type { HeaderMatcher, RouteMatch, StringMatcher } from '../../xds/envoy-types.js';

/** A match without a path matches every path (Gateway API default: PathPrefix `/`). */
export const DEFAULT_PATH: HTTPPathMatch = { type: 'PathPrefix', value: '/' };

/**
 * The Envoy form of a Gateway API match. PathPrefix `/` becomes `prefix: "/"`; other
 * prefixes become `pathSeparatedPrefix` without trailing slashes (`/foo/` matches `/foo`
 * and `/foo/bar`, not `/foobar`, as the Gateway API says); header names are lower-cased;
 * the method is matched as the `:method` header.
 */
export function routeMatch(match: HTTPRouteMatch): RouteMatch {
  const out: RouteMatch = pathMatch(match.path ?? DEFAULT_PATH);
  const headers: HeaderMatcher[] = (match.headers ?? []).map((h) => ({ name: h.name.toLowerCase(), stringMatch: stringMatch(h.type, h.value) }));
  if (match.method) headers.push({ name: ':method', stringMatch: { exact: match.method } });
  if (headers.length > 0) out.headers = headers;
  const query = (match.queryParams ?? []).map((q) => ({ name: q.name, stringMatch: stringMatch(q.type, q.value) }));
  if (query.length > 0) out.queryParameters = query;
  return out;
}

function pathMatch(path: HTTPPathMatch): RouteMatch {
  switch (path.type) {
    case 'Exact':
      return { path: path.value };
    case 'RegularExpression':
      return { safeRegex: { regex: path.value } };
    case 'PathPrefix': {
      const trimmed = normalizedPrefix(path.value);
      return trimmed === '/' ? { prefix: '/' } : { pathSeparatedPrefix: trimmed };
    }
  }
}

/** A PathPrefix value without trailing slashes (`/` stays `/`). */
export function normalizedPrefix(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function stringMatch(type: 'Exact' | 'RegularExpression', value: string): StringMatcher {
  return type === 'Exact' ? { exact: value } : { safeRegex: { regex: value } };
}
