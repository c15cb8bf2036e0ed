// Formatting command output: kubectl-like tables, ages, YAML and JSON, and error lines.
import { stringify } from 'yaml';
import type {
  AuthorizationPolicy,
  ExternalService,
  GRPCRoute,
  HTTPRoute,
  MeshConfig,
  RequestAuthentication,
  Resource,
  ResourceKind,
  Service,
  TCPRoute,
  TrafficPolicy,
} from '../api/resource.js';
import type { ProxyStatus } from '../api/proxy-status.js';
import { describeParentRef } from '../api/route-parent-ref.js';
import { GATEWAY, GATEWAY_CLASS, SECRET } from './output-gateway.js';
import { formatAge } from './age.js';
import type { ClientError } from './api-client.js';

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json';

/** Left-aligned columns, three spaces apart, no trailing spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export { formatAge } from './age.js';

const labels = (m: Record<string, string> | undefined) =>
  m && Object.keys(m).length
    ? Object.entries(m)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '<none>';

/** The columns of one kind's table. */
export interface Columns<R> {
  headers: string[];
  wide: string[];
  row(r: R, now: Date): string[];
  wideRow(r: R): string[];
}

const SERVICE: Columns<Service> = {
  headers: ['NAME', 'PORTS', 'AGE'],
  wide: ['SELECTOR'],
  row: (s, now) => [
    s.metadata.name,
    s.spec.ports.map((p) => `${p.port}${p.targetPort !== p.port ? `:${p.targetPort}` : ''}/${p.appProtocol}`).join(','),
    formatAge(s.metadata.creationTimestamp, now),
  ],
  wideRow: (s) => [labels(s.spec.selector)],
};

const HTTP_ROUTE: Columns<HTTPRoute> = {
  headers: ['NAME', 'PARENTS', 'HOSTNAMES', 'RULES', 'AGE'],
  wide: ['BACKENDS'],
  row: (r, now) => [
    r.metadata.name,
    r.spec.parentRefs.map(describeParentRef).join(','),
    r.spec.hostnames?.length ? r.spec.hostnames.join(',') : '*',
    String(r.spec.rules.length),
    formatAge(r.metadata.creationTimestamp, now),
  ],
  wideRow: (r) => [r.spec.rules.map((rule) => rule.backendRefs.map((b) => `${b.name}:${b.port}=${b.weight}`).join(',') || '<none>').join(' | ')],
};

const MESH_CONFIG: Columns<MeshConfig> = {
  headers: ['NAME', 'LOAD-BALANCER', 'CONNECT-TIMEOUT', 'GRACE-PERIOD', 'AGE'],
  wide: [],
  row: (m, now) => [m.metadata.name, m.spec.loadBalancer, `${m.spec.connectTimeoutMs}ms`, `${m.spec.workloadGracePeriodSeconds}s`, formatAge(m.metadata.creationTimestamp, now)],
  wideRow: () => [],
};

const AUTHORIZATION_POLICY: Columns<AuthorizationPolicy> = {
  headers: ['NAME', 'ACTION', 'TARGET', 'RULES', 'AGE'],
  wide: [],
  row: (p, now) => [
    p.metadata.name,
    p.spec.action,
    p.spec.targetRef ? `Service/${p.spec.targetRef.name}` : '(namespace)',
    String(p.spec.rules.length),
    formatAge(p.metadata.creationTimestamp, now),
  ],
  wideRow: () => [],
};

const parents = (refs: readonly { namespace?: string; name: string; port?: number }[]) =>
  refs.map((p) => `${p.namespace ? `${p.namespace}/` : ''}${p.name}${p.port !== undefined ? `:${p.port}` : ''}`).join(',');
const backends = (refs: readonly { name: string; port: number; weight: number }[]) => refs.map((b) => `${b.name}:${b.port}=${b.weight}`).join(',') || '<none>';

const GRPC_ROUTE: Columns<GRPCRoute> = {
  headers: ['NAME', 'PARENTS', 'RULES', 'AGE'],
  wide: ['BACKENDS'],
  row: (r, now) => [r.metadata.name, r.spec.parentRefs.map(describeParentRef).join(','), String(r.spec.rules.length), formatAge(r.metadata.creationTimestamp, now)],
  wideRow: (r) => [r.spec.rules.map((rule) => backends(rule.backendRefs)).join(' | ')],
};

const TCP_ROUTE: Columns<TCPRoute> = {
  headers: ['NAME', 'PARENTS', 'BACKENDS', 'AGE'],
  wide: [],
  row: (r, now) => [r.metadata.name, parents(r.spec.parentRefs), backends(r.spec.rules[0]?.backendRefs ?? []), formatAge(r.metadata.creationTimestamp, now)],
  wideRow: () => [],
};

const EXTERNAL_SERVICE: Columns<ExternalService> = {
  headers: ['NAME', 'HOSTS', 'PORTS', 'TLS', 'AGE'],
  wide: ['ENDPOINTS'],
  row: (e, now) => [
    e.metadata.name,
    e.spec.hosts.join(','),
    e.spec.ports.map((p) => `${p.port}${p.targetPort !== p.port ? `:${p.targetPort}` : ''}/${p.protocol}`).join(','),
    e.spec.tls ? e.spec.tls.mode : '-',
    formatAge(e.metadata.creationTimestamp, now),
  ],
  wideRow: (e) => [e.spec.endpoints ? e.spec.endpoints.map((x) => (x.port !== undefined ? `${x.address}:${x.port}` : x.address)).join(',') : '<dns>'],
};

const POLICY_PARTS = ['loadBalancer', 'timeouts', 'retry', 'circuitBreaker', 'outlierDetection', 'faultInjection', 'rateLimit'] as const;

const TRAFFIC_POLICY: Columns<TrafficPolicy> = {
  headers: ['NAME', 'TARGET', 'SETTINGS', 'AGE'],
  wide: ['LOAD-BALANCER'],
  row: (p, now) => [
    p.metadata.name,
    `Service/${p.spec.targetRef.name}`,
    POLICY_PARTS.filter((k) => p.spec[k] !== undefined).join(',') || '<none>',
    formatAge(p.metadata.creationTimestamp, now),
  ],
  wideRow: (p) => [p.spec.loadBalancer ? p.spec.loadBalancer.type : '-'],
};

const REQUEST_AUTHENTICATION: Columns<RequestAuthentication> = {
  headers: ['NAME', 'TARGET', 'ISSUERS', 'AGE'],
  wide: [],
  row: (r, now) => [
    r.metadata.name,
    r.spec.targetRef ? `${r.spec.targetRef.kind}/${r.spec.targetRef.name}` : '(namespace)',
    r.spec.jwtRules.map((j) => j.issuer).join(','),
    formatAge(r.metadata.creationTimestamp, now),
  ],
  wideRow: () => [],
};

const COLUMNS: { [K in ResourceKind]: Columns<Extract<Resource, { kind: K }>> } = {
  Service: SERVICE,
  HTTPRoute: HTTP_ROUTE,
  MeshConfig: MESH_CONFIG,
  AuthorizationPolicy: AUTHORIZATION_POLICY,
  TrafficPolicy: TRAFFIC_POLICY,
  GRPCRoute: GRPC_ROUTE,
  TCPRoute: TCP_ROUTE,
  RequestAuthentication: REQUEST_AUTHENTICATION,
  ExternalService: EXTERNAL_SERVICE,
  GatewayClass: GATEWAY_CLASS,
  Gateway: GATEWAY,
  Secret: SECRET,
};

/** A table of resources of one kind; a NAMESPACE column first when they span namespaces. */
export function resourceTable(kind: ResourceKind, items: readonly Resource[], opts: { wide?: boolean; showNamespace?: boolean; now?: Date } = {}): string {
  const cols = COLUMNS[kind] as unknown as Columns<Resource>;
  const now = opts.now ?? new Date();
  const ns = opts.showNamespace ? ['NAMESPACE'] : [];
  const headers = [...ns, ...cols.headers, ...(opts.wide ? cols.wide : [])];
  const rows = items.map((r) => [...(opts.showNamespace ? [r.metadata.namespace ?? ''] : []), ...cols.row(r, now), ...(opts.wide ? cols.wideRow(r) : [])]);
  return formatTable(headers, rows);
}

/** The short name of a type URL: `type.googleapis.com/envoy.config.route.v3.RouteConfiguration` → `RouteConfiguration`. */
export const typeName = (typeUrl: string): string => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);

const version = (v: string) => v || '-';

/**
 * Proxies with their sync state; NACKs listed under the table, one line each (latest per type).
 * Wide adds ENDPOINT (the readiness the proxy reports: ready, not-ready, draining; `-` for a data
 * plane that reports none) and WARNINGS.
 */
export function proxyTable(proxies: readonly ProxyStatus[], opts: { wide?: boolean; now?: Date } = {}): string {
  const now = opts.now ?? new Date();
  const headers = ['ID', 'KIND', 'SERVICE', 'NAMESPACE', 'ADDRESS', 'STATUS', 'LAST-SEEN', 'VERSIONS(L/R/C/E)', 'NACKS', ...(opts.wide ? ['CLIENT', 'ENDPOINT', 'WARNINGS'] : [])];
  const rows = proxies.map((p) => [
    p.id,
    p.kind ?? 'sidecar',
    p.service,
    p.namespace,
    p.address,
    p.connected ? 'connected' : 'disconnected',
    formatAge(p.lastSeen, now),
    [p.versions.listeners, p.versions.routes, p.versions.clusters, p.versions.endpoints].map(version).join('/'),
    String(p.nacks.length),
    ...(opts.wide ? [p.userAgent ? `${p.userAgent.name}/${p.userAgent.version}` : '-', p.readiness ?? '-', p.warnings?.length ? p.warnings.join('; ') : '<none>'] : []),
  ]);
  let out = formatTable(headers, rows);
  const nackLines = proxies.flatMap((p) => {
    const latest = new Map<string, ProxyStatus['nacks'][number]>();
    for (const n of p.nacks) latest.set(n.typeUrl, n);
    return [...latest.values()].map((n) => `${p.id} refused ${typeName(n.typeUrl)} version ${n.version} ${formatAge(n.at, now)} ago: ${n.message}`);
  });
  if (nackLines.length) out += `\nNACKs (latest per proxy and type):\n${nackLines.map((l) => `  ${l}\n`).join('')}`;
  const undelivered = proxies.flatMap((p) => (p.undelivered ?? []).map((u) => `${p.id}: ${u.message} (${formatAge(u.at, now)} ago)`));
  if (undelivered.length) out += `\nNot delivered (config too large to send):\n${undelivered.map((l) => `  ${l}\n`).join('')}`;
  return out;
}

/** Resources as YAML documents separated by `---` (so the output can be applied again). */
export const toYaml = (items: readonly unknown[]): string => items.map((r) => stringify(r, { lineWidth: 0 })).join('---\n');

/** One resource as a JSON object; several as a kubectl-style `List`. */
export const toJson = (items: readonly unknown[], single: boolean): string => JSON.stringify(single ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2) + '\n';

/** Lines for stderr: the message, then each server validation problem as `resource: path: message`. */
export function formatClientError(e: ClientError): string[] {
  if (!e.problems?.length) return [`error: ${e.message}`];
  return e.problems.map((p) => [p.resource, p.path, p.message].filter(Boolean).join(': '));
}
