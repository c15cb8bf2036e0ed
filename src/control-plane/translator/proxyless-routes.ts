// A sidecar's route table of a Service port, as a proxyless gRPC client takes it (gRPC A28,
// A31, A33, A42, A44): the same routes in the same order, with what gRPC reads in place of what
// only a proxy does. What a gRPC client cannot do is left out with a warning, never sent for it
// to refuse.
import type { Duration, HashPolicy, HeaderMatcher, HTTPFault, RetryPolicy, Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost } from '../../xds/envoy-types.js';
import { FILTER_FAULT, FILTER_LOCAL_RATE_LIMIT } from '../../xds/type-urls.js';

/** The gRPC form of a route table, and whether it uses the fault filter. */
export interface ProxylessRoutes {
  table: RouteConfiguration;
  usesFault: boolean;
  warnings: string[];
}

/** The filter state key gRPC hashes a channel by (A42): every call of one channel goes to one endpoint. */
export const GRPC_CHANNEL_ID = 'io.grpc.channel_id';

/** Envoy retry conditions a gRPC client understands (A44): status names. */
const GRPC_STATUS_CONDITIONS = new Set(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);
/** Conditions about the connection or a proxy's 5xx: a gRPC client sees them as UNAVAILABLE. */
const UNAVAILABLE_CONDITIONS = new Set(['connect-failure', 'reset', '5xx', 'gateway-error']);

const cache = new WeakMap<RouteConfiguration, ProxylessRoutes>();

/** The proxyless form of a sidecar route table (computed once per table object: tables are immutable and shared). */
export function proxylessRouteTable(sidecar: RouteConfiguration): ProxylessRoutes {
  const hit = cache.get(sidecar);
  if (hit) return hit;
  const warnings: string[] = [];
  const state = { usesFault: false };
  const virtualHosts = sidecar.virtualHosts.map((vh) => proxylessHost(vh, `route table ${sidecar.name}`, warnings, state));
  const out = { table: { name: sidecar.name, virtualHosts }, usesFault: state.usesFault, warnings };
  cache.set(sidecar, out);
  return out;
}

function proxylessHost(vh: VirtualHost, where: string, warnings: string[], state: { usesFault: boolean }): VirtualHost {
  const at = `${where} (${vh.name})`;
  const out: VirtualHost = { name: vh.name, domains: vh.domains, routes: [] };
  const retry = vh.retryPolicy && proxylessRetry(vh.retryPolicy, `${at} retries`, warnings);
  if (retry) out.retryPolicy = retry;
  const fault = vh.typedPerFilterConfig?.[FILTER_FAULT] as HTTPFault | undefined;
  if (fault) {
    if (fault.headers?.length) {
      warnings.push(
        `${at}: fault injection limited to requests with headers ${fault.headers.map((h) => h.name).join(', ')} is not done by proxyless gRPC clients (gRPC A33 has no header condition); no fault is injected`,
      );
    } else {
      out.typedPerFilterConfig = { [FILTER_FAULT]: fault };
      state.usesFault = true;
    }
  }
  if (vh.typedPerFilterConfig?.[FILTER_LOCAL_RATE_LIMIT]) warnings.push(`${at}: rate limits are not enforced by proxyless gRPC clients; calls are not limited`);
  for (const r of vh.routes) {
    const route = proxylessRoute(r, `${at} route ${r.name ?? '?'}`, warnings);
    if (route) out.routes.push(route);
  }
  return out;
}

function proxylessRoute(r: Route, at: string, warnings: string[]): Route | undefined {
  if (r.redirect || !r.route) {
    warnings.push(`${at}: redirects are not followed by gRPC clients; the route is left out (its calls go to the next matching route)`);
    return undefined;
  }
  const match = proxylessMatch(r.match, at, warnings);
  if (!match) return undefined;
  const dropped = (['requestHeadersToAdd', 'requestHeadersToRemove', 'responseHeadersToAdd', 'responseHeadersToRemove'] as const).filter((k) => r[k]?.length);
  if (dropped.length) warnings.push(`${at}: header changes (${dropped.join(', ')}) are not made by proxyless gRPC clients; left out`);
  const out: Route = { match, route: proxylessAction(r.route, at, warnings) };
  if (r.name !== undefined) out.name = r.name;
  return out;
}

/** Every gRPC call is an HTTP/2 POST to `/<service>/<method>` without a query string. */
function proxylessMatch(m: RouteMatch, at: string, warnings: string[]): RouteMatch | undefined {
  if (m.queryParameters?.length) {
    warnings.push(`${at}: matches query parameters, which gRPC calls never carry; the route is left out`);
    return undefined;
  }
  const headers: HeaderMatcher[] = [];
  for (const h of m.headers ?? []) {
    if (h.name !== ':method') headers.push(h);
    else if (h.stringMatch?.exact !== 'POST' || h.invertMatch) {
      warnings.push(`${at}: matches method ${h.stringMatch?.exact ?? '?'}, and gRPC calls are POST; the route is left out`);
      return undefined;
    }
  }
  const out: RouteMatch = pathOf(m);
  if (headers.length) out.headers = headers;
  return out;
}

const RE2_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/** gRPC has no path-separated prefix: the same paths as a regular expression (gRPC anchors it). */
function pathOf(m: RouteMatch): RouteMatch {
  if (m.pathSeparatedPrefix !== undefined) return { safeRegex: { regex: `${m.pathSeparatedPrefix.replace(RE2_SPECIAL, '\\$&')}(/.*)?` } };
  if (m.path !== undefined) return { path: m.path };
  if (m.safeRegex !== undefined) return { safeRegex: m.safeRegex };
  return { prefix: m.prefix ?? '/' };
}

function proxylessAction(a: RouteAction, at: string, warnings: string[]): RouteAction {
  const out: RouteAction = a.weightedClusters ? { weightedClusters: a.weightedClusters } : { cluster: a.cluster! };
  // gRPC A31: the call's deadline is capped by max_stream_duration; 0 (none) leaves the application's.
  if (a.timeout && (a.timeout.seconds || a.timeout.nanos)) out.maxStreamDuration = { maxStreamDuration: a.timeout };
  const retry = a.retryPolicy && proxylessRetry(a.retryPolicy, `${at} retries`, warnings);
  if (retry) out.retryPolicy = retry;
  const hash = a.hashPolicy?.map((h) => proxylessHash(h, at, warnings));
  if (hash?.length) out.hashPolicy = hash;
  const dropped = [
    a.requestMirrorPolicies?.length ? 'request mirroring' : '',
    a.hostRewriteLiteral !== undefined ? 'host rewrite' : '',
    a.prefixRewrite !== undefined || a.regexRewrite !== undefined ? 'path rewrite' : '',
  ].filter(Boolean);
  if (dropped.length) warnings.push(`${at}: ${dropped.join(', ')} is not done by proxyless gRPC clients; left out`);
  return out;
}

/**
 * gRPC A44 retries on the status names in `retryOn`; a connection failure or a proxy's 5xx
 * reaches a gRPC client as UNAVAILABLE. A policy that retries only idempotent methods retries no
 * gRPC call (all are POST) once it reached the server, which gRPC's own transparent retry already
 * covers before: no policy then.
 */
function proxylessRetry(p: RetryPolicy, at: string, warnings: string[]): RetryPolicy | undefined {
  if (p.perTryTimeout) warnings.push(`${at}: a per-try timeout is not applied by gRPC clients (gRPC A44 has none); only the call's deadline`);
  const numRetries = p.numRetries?.value ?? 1;
  if (numRetries < 1) return undefined;
  const idempotentOnly = p.retriableRequestHeaders?.some((h) => h.name === ':method' && !new RegExp(`^(?:${h.stringMatch?.safeRegex?.regex ?? ''})$`).test('POST'));
  if (idempotentOnly) {
    warnings.push(
      `${at}: only idempotent methods are retried and gRPC calls are POST; set nonIdempotent: true to retry gRPC statuses (calls that never reached a server are retried by gRPC itself)`,
    );
    return undefined;
  }
  const on = new Set<string>();
  for (const c of p.retryOn.split(',').filter(Boolean)) {
    if (GRPC_STATUS_CONDITIONS.has(c)) on.add(c);
    else if (UNAVAILABLE_CONDITIONS.has(c)) on.add('unavailable');
  }
  if (p.retriableStatusCodes?.length) warnings.push(`${at}: HTTP status codes ${p.retriableStatusCodes.join(', ')} are not retried by gRPC clients, which see gRPC statuses`);
  if (on.size === 0) return undefined;
  const out: RetryPolicy = { retryOn: [...on].join(','), numRetries: { value: numRetries } };
  // gRPC refuses a zero base interval or a maximum below it; its defaults (25 ms, 10x) apply then.
  const b = p.retryBackOff;
  if (b && ms(b.baseInterval) > 0 && (b.maxInterval === undefined || ms(b.maxInterval) >= ms(b.baseInterval))) out.retryBackOff = b;
  return out;
}

const ms = (d: Duration): number => (d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6;

/** gRPC A42 hashes on a header or on the channel; a client's channel is its connection (source address). */
function proxylessHash(h: HashPolicy, at: string, warnings: string[]): HashPolicy {
  if ('header' in h) return h;
  if ('cookie' in h) warnings.push(`${at}: gRPC calls carry no cookies; ring hash keys on the client's channel instead (${GRPC_CHANNEL_ID})`);
  return { filterState: { key: GRPC_CHANNEL_ID } };
}
