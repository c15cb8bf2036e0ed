// The snapshot of a proxyless gRPC node (kind `grpc`): for each listener name its xDS client
// asked for, an API listener routed by the Service port's table, and the clusters and
// endpoints those routes name, all in the forms gRPC 1.14 accepts (see proxyless-routes.ts,
// proxyless-clusters.ts). Server listener names go to proxyless-server-listeners.ts.
import type { ApiHttpConnectionManager, Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../xds/envoy-types.js';
import { serverListenerAddress } from '../../xds/proxyless-grpc.js';
import { FILTER_FAULT, FILTER_ROUTER, HTTP_CONNECTION_MANAGER, HTTP_FAULT, ROUTER, typeUrl } from '../../xds/type-urls.js';
import { workloadLabels } from '../registry/workload.js';
import { meshView } from './mesh-view.js';
import { proxylessCluster, proxylessLoadAssignment } from './proxyless-clusters.js';
import { resolveClientTarget } from './proxyless-names.js';
import { proxylessRouteTable } from './proxyless-routes.js';
import { grpcServerListener } from './proxyless-server-listeners.js';
import { refusedIdentity } from './selection.js';
import { assembleSnapshot } from './snapshot-assembly.js';
import type { ProxyNode, Snapshot, TranslatorInput } from './types.js';

const ROUTER_FILTER = { name: FILTER_ROUTER, typedConfig: { '@type': typeUrl(ROUTER) } };
// gRPC A33: the fault filter is configured per route or virtual host; the router comes last (A39).
const FAULT_FILTERS = [{ name: FILTER_FAULT, typedConfig: { '@type': typeUrl(HTTP_FAULT) } }, ROUTER_FILTER];
const PLAIN_FILTERS = [ROUTER_FILTER];

/** An API listener (a gRPC channel's HCM) routed by the RDS table `routeConfigName`. */
export function apiListener(name: string, routeConfigName: string, fault: boolean): Listener {
  const hcm: ApiHttpConnectionManager = {
    '@type': typeUrl(HTTP_CONNECTION_MANAGER),
    rds: { routeConfigName, configSource: { ads: {}, resourceApiVersion: 'V3' } },
    httpFilters: fault ? FAULT_FILTERS : PLAIN_FILTERS,
  };
  return { name, filterChains: [], apiListener: { apiListener: hcm } };
}

/**
 * The snapshot of a proxyless gRPC node. A name that resolves to nothing is absent (gRPC then
 * says the resource does not exist) and said in a warning; the other names are unaffected.
 */
export function translateProxyless(input: TranslatorInput, node: ProxyNode): Snapshot {
  const view = meshView(input);
  const warnings = new Set<string>(view.warnings);
  const self = { namespace: node.namespace, service: node.service, labels: workloadLabels(node) };
  for (const s of view.services) {
    const refused = refusedIdentity(s, self);
    if (refused !== undefined) warnings.add(refused);
  }
  const listeners: Listener[] = [];
  const routes = new Map<string, RouteConfiguration>();
  const clusterNames = new Set<string>();
  for (const name of node.listenerNames ?? []) {
    if (serverListenerAddress(name) !== undefined) {
      const l = grpcServerListener(input, node, name, warnings);
      if (l) listeners.push(l);
      continue;
    }
    const target = resolveClientTarget(name, node.namespace, view.lookup);
    if (typeof target === 'string') {
      warnings.add(`${target}; not sent (the gRPC client reports that the resource does not exist)`);
      continue;
    }
    const sidecar = view.upstreamTable(target.service, target.port, node.namespace);
    sidecar.warnings.forEach((w) => warnings.add(w));
    const { table, usesFault, warnings: w } = proxylessRouteTable(sidecar.table);
    w.forEach((x) => warnings.add(x));
    listeners.push(apiListener(name, table.name, usesFault));
    routes.set(table.name, table);
    for (const vh of table.virtualHosts) {
      for (const r of vh.routes) {
        if (r.route?.cluster) clusterNames.add(r.route.cluster);
        for (const c of r.route?.weightedClusters?.clusters ?? []) clusterNames.add(c.name);
      }
    }
  }
  const clusters: Cluster[] = [];
  const endpoints: [string, ClusterLoadAssignment][] = [];
  for (const name of [...clusterNames].sort()) {
    const sidecar = view.clusters.get(name);
    const cla = view.endpoints.get(name);
    if (!sidecar || !cla) continue;
    const { cluster, warnings: w } = proxylessCluster(input, sidecar);
    w.forEach((x) => warnings.add(x));
    clusters.push(cluster);
    endpoints.push([name, proxylessLoadAssignment(cla)]);
  }
  return assembleSnapshot(listeners, [...routes.values()], clusters, new Map(endpoints), warnings);
}
