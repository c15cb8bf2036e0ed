// The mesh-wide part of every snapshot (outbound clusters, endpoints, per-Service routes),
// computed once per translator input and shared by all proxies' snapshots.
import type { Service, ServicePort } from '../../api/resource.js';
import type { Cluster, ClusterLoadAssignment, RouteConfiguration } from '../../xds/envoy-types.js';
import { outboundCluster } from './clusters.js';
import { loadAssignment } from './endpoints.js';
import { httpProxyRouteTable, upstreamRouteTable } from './route-tables.js';
import { isHttpProtocol, serviceKey } from './selection.js';
import { serviceRoutes, type ServiceLookup, type ServiceRoutes } from './service-routes.js';
import { clusterWithPolicy, indexPolicies } from './traffic-policy.js';
import { grpcAsHttpRoute } from './grpc-routes.js';
import { tcpBackends, tcpRouteAttachmentWarnings } from './tcp-routes.js';
import type { TranslatorInput } from './types.js';

export interface MeshView {
  /** Services ordered by namespace, then name. */
  services: readonly Service[];
  lookup: ServiceLookup;
  /** One EDS cluster per Service port, in name order. */
  clusters: ReadonlyMap<string, Cluster>;
  /** One load assignment per EDS cluster, in name order. */
  endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
  /** The upstream route table of a Service port as seen from a namespace. */
  upstreamTable(service: Service, port: ServicePort, callerNamespace: string): { table: RouteConfiguration; warnings: readonly string[] };
  /** The weighted clusters of a TCP Service port as seen from a namespace (its TCPRoutes, or the Service's own cluster). */
  tcpClusters(service: Service, port: ServicePort, callerNamespace: string): { clusters: { name: string; weight: number }[]; warnings: readonly string[] };
  /** Mesh-wide problems (conflicting or dangling policies, TCPRoutes on HTTP ports), the same for every proxy. */
  warnings: readonly string[];
  /** The HTTP proxy route table as seen from a namespace. */
  httpProxyTable(callerNamespace: string): { table: RouteConfiguration; warnings: readonly string[] };
}

const views = new WeakMap<TranslatorInput, MeshView>();

function sortedMap<V>(entries: [string, V][]): Map<string, V> {
  return new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function memo<V>(fn: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = fn(key)));
    return v;
  };
}

/** The mesh view of an input, built on first use and cached for as long as the input object lives. */
export function meshView(input: TranslatorInput): MeshView {
  let view = views.get(input);
  if (!view) views.set(input, (view = buildView(input)));
  return view;
}

function buildView(input: TranslatorInput): MeshView {
  const services = [...input.services].sort((a, b) => {
    const ka = serviceKey(a.metadata.namespace, a.metadata.name);
    const kb = serviceKey(b.metadata.namespace, b.metadata.name);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const byKey = new Map(services.map((s) => [serviceKey(s.metadata.namespace, s.metadata.name), s]));
  const lookup: ServiceLookup = (ns, name) => byKey.get(serviceKey(ns, name));
  const httpRoutes = input.grpcRoutes?.length ? [...input.httpRoutes, ...input.grpcRoutes.map(grpcAsHttpRoute)] : input.httpRoutes;
  const policies = indexPolicies(input.trafficPolicies ?? [], (ns, name) => byKey.has(serviceKey(ns, name)));
  const clusters: [string, Cluster][] = [];
  const endpoints: [string, ClusterLoadAssignment][] = [];
  for (const s of services) {
    for (const p of s.spec.ports) {
      const c = clusterWithPolicy(
        outboundCluster(s, p, input.meshConfig, input.virtualIps?.get(serviceKey(s.metadata.namespace, s.metadata.name))),
        policies.lookup(s.metadata.namespace, s.metadata.name),
      );
      clusters.push([c.name, c]);
      endpoints.push([c.name, loadAssignment(s, p, input.workloads)]);
    }
  }
  const routesFor = memo((key): ServiceRoutes => {
    const [ns, name, port, caller] = JSON.parse(key) as [string, string, number, string];
    const service = lookup(ns, name)!;
    return serviceRoutes(
      service,
      service.spec.ports.find((p) => p.port === port)!,
      httpRoutes,
      caller,
      lookup,
      policies.lookup,
    );
  });
  const routesKey = (s: Service, p: ServicePort, caller: string) => JSON.stringify([s.metadata.namespace, s.metadata.name, p.port, caller]);
  const upstreamTables = memo((key) => {
    const [ns, name, port] = JSON.parse(key) as [string, string, number, string];
    const service = lookup(ns, name)!;
    const { routes, warnings, host } = routesFor(key);
    return {
      table: upstreamRouteTable(
        service,
        service.spec.ports.find((p) => p.port === port)!,
        routes,
        host,
      ),
      warnings,
    };
  });
  const httpProxyTables = memo((caller) => {
    const ports = services.flatMap((service) =>
      service.spec.ports
        .filter((p) => isHttpProtocol(p.appProtocol))
        .map((port) => ({ service, port, routes: routesFor(routesKey(service, port, caller)).routes, host: routesFor(routesKey(service, port, caller)).host })),
    );
    const { table, warnings } = httpProxyRouteTable(ports, caller);
    return { table, warnings: [...ports.flatMap((p) => routesFor(routesKey(p.service, p.port, caller)).warnings), ...warnings] };
  });
  return {
    services,
    lookup,
    clusters: sortedMap(clusters),
    endpoints: sortedMap(endpoints),
    warnings: [...policies.warnings, ...tcpRouteAttachmentWarnings(input.tcpRoutes ?? [], lookup)],
    tcpClusters: (s, p, caller) => tcpBackends(s, p, input.tcpRoutes ?? [], caller, lookup),
    upstreamTable: (s, p, caller) => upstreamTables(routesKey(s, p, caller)),
    httpProxyTable: httpProxyTables,
  };
}
