// The `route` label of an API request: a name from a fixed set (the REST routes with their
// resource kind, the telemetry, security, OTLP and metrics endpoints, the dashboard), never the
// path itself, so names and namespaces in paths add no series.
import { matchPath } from '../rest-api/routes.js';

export function apiRouteLabel(pathname: string): string {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/metrics') return 'metrics';
  if (path === '/v1/traces') return 'otlp_traces';
  if (!path.startsWith('/api/')) return path === '/healthz' ? 'healthz' : 'dashboard';
  const parts = path.split('/');
  switch (parts[3]) {
    case 'telemetry':
    case 'traces':
    case 'tap':
    case 'ca':
    case 'tokens':
      return parts[3];
    default:
      break;
  }
  const m = matchPath(path);
  if (!m.ok) return 'unknown';
  return 'plural' in m.value ? `${m.value.route}:${m.value.plural}` : m.value.route;
}

/** HTTP methods as labels: the usual ones, else `_OTHER`. */
export function methodLabel(method: string | undefined): string {
  return method === 'GET' || method === 'POST' || method === 'PUT' || method === 'DELETE' || method === 'PATCH' || method === 'HEAD' ? method : '_OTHER';
}
