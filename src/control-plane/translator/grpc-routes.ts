// GRPCRoutes as HTTPRoutes: a gRPC call is an HTTP/2 POST to `/<service>/<method>`, so each
// method match becomes a path match (exact service and method → Exact path; service only →
// PathPrefix; anything with a method pattern → RegularExpression) and the rest is routed the
// HTTPRoute way (same attachment, precedence, filters and backends).
import type { GRPCMethodMatch, GRPCRoute, HTTPPathMatch, HTTPRoute } from '../../api/resource.js';

const ANY = '[^/]+';
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The HTTP path match of a gRPC method match. */
export function methodPath(m: GRPCMethodMatch | undefined): HTTPPathMatch {
  if (!m) return { type: 'PathPrefix', value: '/' };
  if (m.type === 'Exact') {
    if (m.service !== undefined && m.method !== undefined) return { type: 'Exact', value: `/${m.service}/${m.method}` };
    if (m.service !== undefined) return { type: 'PathPrefix', value: `/${m.service}` };
    return { type: 'RegularExpression', value: `/${ANY}/${escape(m.method!)}` };
  }
  return { type: 'RegularExpression', value: `/(?:${m.service ?? ANY})/(?:${m.method ?? ANY})` };
}

/** The HTTPRoute that routes like `route` (named `grpcroute:<name>` in route names and warnings). */
export function grpcAsHttpRoute(route: GRPCRoute): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { ...route.metadata, name: `grpcroute:${route.metadata.name}` },
    spec: {
      parentRefs: route.spec.parentRefs,
      rules: route.spec.rules.map((r) => ({
        ...(r.name !== undefined ? { name: r.name } : {}),
        matches: (r.matches.length > 0 ? r.matches : [{}]).map((m) => ({ path: methodPath(m.method), ...(m.headers?.length ? { headers: m.headers } : {}) })),
        // GRPCRoute's filters are HTTPRoute's, with the same meaning on the call's HTTP/2 request.
        ...(r.filters?.length ? { filters: r.filters } : {}),
        backendRefs: r.backendRefs,
      })),
    },
  };
}
