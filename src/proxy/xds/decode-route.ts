// Decodes an Envoy RouteConfiguration (RDS) into the proxy's RouteTable: virtual hosts with
// lower-case domains and ordered routes, each forwarding to a cluster or weighted clusters.
import { err, ok, type Result } from '../../common/result.js';
import type { RouteRule, RouteTable, VirtualHost } from '../config/runtime-config.js';
import { XDS_PROBLEM, show, type Problem } from './errors.js';
import { ProblemSink, at, idx, isObj, readDurationMs, readList, readName, readObj, readWeightedClusters, resourceLabel, type Obj } from './decode-fields.js';
import { decodeRouteMatch } from './decode-route-match.js';
import { decodeHeaderMods, decodeMirrors, decodeRedirect, decodeRewrite } from './decode-route-filters.js';
import { decodeHashPolicy, decodePerFilterConfig, decodeRetryPolicy } from './decode-route-policy.js';
import type { FilterSettings } from './http-filters/index.js';
import type { RetryConfig } from '../config/resilience-config.js';

/** What a virtual host gives each of its routes that does not set its own. */
interface HostDefaults {
  readonly retry: RetryConfig | undefined;
  readonly filters: FilterSettings;
}

/** Envoy's route timeout when the route does not set one (an explicit 0 disables it). */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

/** RouteAction fields that change where or what is forwarded; ignoring them would forward the wrong request. */
const UNSUPPORTED_ACTION_FIELDS = [
  'clusterHeader',
  'clusterSpecifierPlugin',
  'inlineClusterSpecifierPlugin',
  'pathRewritePolicy',
  'hostRewriteHeader',
  'hostRewritePathRegex',
  'autoHostRewrite',
];

/** Decodes one RouteConfiguration; `index` is its position in the response. */
export function decodeRouteConfiguration(raw: unknown, index = 0): Result<RouteTable, Problem[]> {
  const s = new ProblemSink(resourceLabel('route', raw, 'name', index));
  if (!isObj(raw)) {
    s.add('', XDS_PROBLEM.INVALID, `must be a RouteConfiguration object, got ${show(raw)}`);
    return err(s.problems);
  }
  const name = readName(s, raw, 'name', '');
  const seenDomains = new Map<string, string>();
  const virtualHosts = readList(s, raw, 'virtualHosts', '').map((vh, i) => decodeVirtualHost(s, vh, idx('virtualHosts', i), seenDomains));
  if (!s.ok || !name) return err(s.problems);
  return ok({ name, virtualHosts: virtualHosts as VirtualHost[] });
}

function decodeVirtualHost(s: ProblemSink, raw: unknown, path: string, seenDomains: Map<string, string>): VirtualHost | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a VirtualHost object, got ${show(raw)}`);
  const name = readName(s, raw, 'name', path);
  const domains: string[] = [];
  const rawDomains = readList(s, raw, 'domains', path);
  if (rawDomains.length === 0) s.add(at(path, 'domains'), XDS_PROBLEM.REQUIRED, 'required: at least one domain (`*` matches every host)');
  rawDomains.forEach((d, i) => {
    const p = idx(at(path, 'domains'), i);
    if (typeof d !== 'string' || d === '') return void s.add(p, XDS_PROBLEM.INVALID, `must be a non-empty host name, got ${show(d)}`);
    const domain = d.toLowerCase();
    const other = seenDomains.get(domain);
    // Envoy refuses a domain in two virtual hosts: which one wins would be ambiguous.
    if (other !== undefined) return void s.add(p, XDS_PROBLEM.DUPLICATE, `domain ${show(domain)} is already used by virtual host ${show(other)}`);
    seenDomains.set(domain, name ?? path);
    domains.push(domain);
  });
  const retryRaw = readObj(s, raw, 'retryPolicy', path, false);
  const retry = retryRaw ? decodeRetryPolicy(s, retryRaw, at(path, 'retryPolicy')) : undefined;
  const filters = decodePerFilterConfig(s, raw, path);
  if ((retryRaw && !retry) || !filters) return undefined;
  const routes = readList(s, raw, 'routes', path).map((r, i) => decodeRoute(s, r, idx(at(path, 'routes'), i), i, { retry, filters }));
  if (!name || routes.some((r) => !r)) return undefined;
  return { name, domains, routes: routes as RouteRule[] };
}

function decodeRoute(s: ProblemSink, raw: unknown, path: string, index: number, host: HostDefaults): RouteRule | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a Route object, got ${show(raw)}`);
  for (const f of ['directResponse', 'filterAction', 'nonForwardingAction']) {
    if (raw[f] !== undefined) return s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy; only route (forward to a cluster) and redirect are');
  }
  const matchObj = readObj(s, raw, 'match', path);
  const match = matchObj ? decodeRouteMatch(s, matchObj, at(path, 'match')) : undefined;
  const redirectRaw = readObj(s, raw, 'redirect', path, false);
  if (redirectRaw && raw.route !== undefined) return s.add(path, XDS_PROBLEM.INVALID, 'exactly one of route and redirect is required, got both');
  const redirect = redirectRaw && match ? decodeRedirect(s, redirectRaw, at(path, 'redirect'), match.path) : undefined;
  const action = redirectRaw ? undefined : readObj(s, raw, 'route', path);
  const forward = action ? decodeRouteAction(s, action, at(path, 'route')) : redirect ? { clusters: [], timeoutMs: 0 } : undefined;
  const rewrite = action ? decodeRewrite(s, action, at(path, 'route'), match?.path) : undefined;
  const mirrors = action ? decodeMirrors(s, action, at(path, 'route')) : [];
  const requestHeaders = decodeHeaderMods(s, raw, 'requestHeadersToAdd', 'requestHeadersToRemove', path);
  const responseHeaders = decodeHeaderMods(s, raw, 'responseHeadersToAdd', 'responseHeadersToRemove', path);
  const filters = decodePerFilterConfig(s, raw, path);
  if (!match || !forward || !filters || rewrite === null || mirrors === null || requestHeaders === null || responseHeaders === null || (redirectRaw && !redirect)) return undefined;
  const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : `routes[${index}]`;
  const rule: { -readonly [K in keyof RouteRule]: RouteRule[K] } = {
    name,
    path: match.path,
    headers: match.headers,
    query: match.query,
    clusters: forward.clusters,
    timeoutMs: forward.timeoutMs,
  };
  if (redirect) rule.redirect = redirect;
  if (rewrite) rule.rewrite = rewrite;
  if (mirrors.length > 0) rule.mirrors = mirrors;
  if (requestHeaders) rule.requestHeaders = requestHeaders;
  if (responseHeaders) rule.responseHeaders = responseHeaders;
  // A route's own settings replace its virtual host's (Envoy: per filter, and the whole retry policy).
  const retry = forward.retry ?? host.retry;
  if (retry) rule.retry = retry;
  if (forward.hash) rule.hash = forward.hash;
  const fault = filters.fault ?? host.filters.fault;
  if (fault) rule.fault = fault;
  const rateLimit = filters.rateLimit ?? host.filters.rateLimit;
  if (rateLimit) rule.rateLimit = rateLimit;
  return rule;
}

function decodeRouteAction(s: ProblemSink, action: Obj, path: string): Pick<RouteRule, 'clusters' | 'timeoutMs' | 'retry' | 'hash'> | undefined {
  for (const f of UNSUPPORTED_ACTION_FIELDS) {
    if (action[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
  }
  const timeoutMs = readDurationMs(s, action, 'timeout', path, DEFAULT_ROUTE_TIMEOUT_MS);
  const hasCluster = action.cluster !== undefined;
  const hasWeighted = action.weightedClusters !== undefined;
  if (hasCluster === hasWeighted) {
    return s.add(path, XDS_PROBLEM.INVALID, `exactly one of cluster and weightedClusters is required, got ${hasCluster ? 'both' : 'neither'}`);
  }
  const clusters = hasCluster
    ? ((c) => (c ? [{ cluster: c, weight: 1 }] : undefined))(readName(s, action, 'cluster', path))
    : readWeightedClusters(s, action, at(path, 'weightedClusters'), true);
  const retryRaw = readObj(s, action, 'retryPolicy', path, false);
  const retry = retryRaw ? decodeRetryPolicy(s, retryRaw, at(path, 'retryPolicy')) : undefined;
  const hashList = readList(s, action, 'hashPolicy', path);
  const hash = hashList.length > 0 ? decodeHashPolicy(s, hashList, at(path, 'hashPolicy')) : undefined;
  if (!clusters || timeoutMs === undefined || (retryRaw && !retry) || (hashList.length > 0 && !hash)) return undefined;
  return { clusters, timeoutMs, ...(retry ? { retry } : {}), ...(hash ? { hash } : {}) };
}
