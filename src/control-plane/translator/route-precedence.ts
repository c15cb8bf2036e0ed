// The order of route matches, per the Gateway API HTTPRoute spec: across all rules of the
// routes attached to a Service port, the first of these criteria that differs decides.
import type { HTTPRoute, HTTPRouteMatch } from '../../api/resource.js';
import { DEFAULT_PATH, normalizedPrefix } from './route-match.js';

/** One match of one rule of one HTTPRoute, with where it came from. */
export interface RankedMatch {
  route: HTTPRoute;
  ruleIndex: number;
  matchIndex: number;
  match: HTTPRouteMatch;
}

// Regular expressions rank between Exact and PathPrefix (their place is implementation-specific
// in the Gateway API): after a catch-all prefix `/` they could never match.
const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

function pathLength(m: HTTPRouteMatch): number {
  const path = m.path ?? DEFAULT_PATH;
  if (path.type === 'PathPrefix') return normalizedPrefix(path.value).length;
  if (path.type === 'RegularExpression') return path.value.length;
  return 0;
}

function created(route: HTTPRoute): number {
  const t = Date.parse(route.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/**
 * Negative if `a` must be tried before `b`: Exact path; then regular expression, longest
 * first; then PathPrefix, longest first; then a method match; then more header matches;
 * then more query parameter matches; then the older route (creationTimestamp; missing
 * counts as newest); then `namespace/name` alphabetically; then rule order; then match order.
 */
export function compareMatches(a: RankedMatch, b: RankedMatch): number {
  const pa = (a.match.path ?? DEFAULT_PATH).type;
  const pb = (b.match.path ?? DEFAULT_PATH).type;
  return (
    PATH_RANK[pa] - PATH_RANK[pb] ||
    pathLength(b.match) - pathLength(a.match) ||
    Number(Boolean(b.match.method)) - Number(Boolean(a.match.method)) ||
    (b.match.headers?.length ?? 0) - (a.match.headers?.length ?? 0) ||
    (b.match.queryParams?.length ?? 0) - (a.match.queryParams?.length ?? 0) ||
    compareNumbers(created(a.route), created(b.route)) ||
    compareStrings(routeId(a.route), routeId(b.route)) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** `namespace/name` of a route. */
export const routeId = (r: HTTPRoute): string => `${r.metadata.namespace}/${r.metadata.name}`;

function compareNumbers(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function compareStrings(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
