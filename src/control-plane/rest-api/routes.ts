// Matching a request's method and path to one of the API's routes, with 404/405 answers that say what exists.
import { CLUSTER_SCOPED_KINDS, type ResourceKind } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { apiError, type ApiError } from './errors.js';
import { KNOWN_PLURALS, kindOfPlural } from './kinds.js';

export type Route =
  | { route: 'healthz' }
  | { route: 'apply' }
  | { route: 'proxies' }
  /** `/api/v1/store/backup`: every resource at one revision, in the snapshot format (admin only: a POST). */
  | { route: 'backup' }
  /** `/api/v1/{plural}`: list (GET) or create (POST). */
  | { route: 'collection'; kind: ResourceKind; plural: string }
  /** `/api/v1/{plural}/{namespace}/{name}`, or `/api/v1/{plural}/{name}` for cluster-scoped kinds. */
  | { route: 'item'; kind: ResourceKind; plural: string; namespace?: string; name: string };

const METHODS: Record<Route['route'], readonly string[]> = {
  healthz: ['GET'],
  apply: ['POST'],
  proxies: ['GET'],
  backup: ['POST'],
  collection: ['GET', 'POST'],
  item: ['GET', 'PUT', 'DELETE'],
};

function segments(pathname: string): Result<string[], ApiError> {
  const parts = pathname.replace(/\/+$/, '').split('/').slice(1);
  try {
    return ok(parts.map((p) => decodeURIComponent(p)));
  } catch {
    return err(apiError('BAD_REQUEST', `the path ${pathname} is not valid percent-encoding`));
  }
}

export function matchPath(pathname: string): Result<Route, ApiError> {
  const parsed = segments(pathname);
  if (!parsed.ok) return parsed;
  const s = parsed.value;
  if (s.length === 1 && s[0] === 'healthz') return ok({ route: 'healthz' });
  const notFound = (why: string) => err(apiError('NOT_FOUND', `no route for ${pathname}: ${why}`));
  if (s[0] !== 'api' || s[1] !== 'v1' || s.length < 3) {
    return notFound(`expected /healthz or /api/v1/{${KNOWN_PLURALS.join('|')}}[/{namespace}/{name}], /api/v1/apply, /api/v1/proxies or /api/v1/store/backup`);
  }
  const [, , plural, ...rest] = s as [string, string, string, ...string[]];
  if (plural === 'apply' && rest.length === 0) return ok({ route: 'apply' });
  if (plural === 'proxies' && rest.length === 0) return ok({ route: 'proxies' });
  if (plural === 'store' && rest.length === 1 && rest[0] === 'backup') return ok({ route: 'backup' });
  const kind = kindOfPlural(plural);
  if (!kind) return notFound(`unknown resource type ${JSON.stringify(plural)}; known: ${KNOWN_PLURALS.join(', ')}`);
  if (rest.length === 0) return ok({ route: 'collection', kind, plural });
  if (rest.some((p) => p === '')) return notFound('empty path segment');
  if (CLUSTER_SCOPED_KINDS.includes(kind)) {
    if (rest.length === 1) return ok({ route: 'item', kind, plural, name: rest[0]! });
    return notFound(`${kind} is not namespaced; expected /api/v1/${plural}/{name}`);
  }
  if (rest.length === 2) return ok({ route: 'item', kind, plural, namespace: rest[0]!, name: rest[1]! });
  return notFound(`expected /api/v1/${plural}/{namespace}/{name}`);
}

/** The route for `method pathname`, or the 400/404/405 to answer. */
export function matchRoute(method: string, pathname: string): Result<Route, ApiError> {
  const matched = matchPath(pathname);
  if (!matched.ok) return matched;
  const allowed = METHODS[matched.value.route];
  if (!allowed.includes(method)) {
    return err(apiError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}; allowed: ${allowed.join(', ')}`, { headers: { allow: allowed.join(', ') } }));
  }
  return matched;
}
