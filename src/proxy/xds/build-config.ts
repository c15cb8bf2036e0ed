// Builds the proxy's RuntimeConfig from decoded resources of all four types and checks that
// it hangs together: every cluster a listener or route names exists, and no two listeners
// share an address. Route tables and endpoints nothing refers to are left out.
import { err, ok, type Result } from '../../common/result.js';
import type { CaptureChain, CaptureListenerConfig, ClusterConfig, ListenerConfig, ResourceVersions, RouteTable, RuntimeConfig, WeightedCluster } from '../config/runtime-config.js';
import type { DecodedCluster } from './decode-cluster.js';
import type { DecodedEndpoints } from './decode-endpoints.js';
import { XDS_PROBLEM, type Problem } from './errors.js';

/** Decoded resources by name: listeners, route tables and clusters by their names, endpoints by `clusterName`. */
export interface DecodedResources {
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  readonly routes: ReadonlyMap<string, RouteTable>;
  readonly clusters: ReadonlyMap<string, DecodedCluster>;
  readonly endpoints: ReadonlyMap<string, DecodedEndpoints>;
}

/** The route tables the HTTP listeners use, sorted (the RDS subscription). */
export function referencedRouteNames(listeners: Iterable<ListenerConfig>): string[] {
  const names = new Set<string>();
  for (const l of listeners) {
    if (l.protocol === 'http') names.add(l.routeTable);
    else if (l.protocol === 'capture') for (const c of captureChains(l)) if (c.action.kind === 'http') names.add(c.action.routeTable);
  }
  return [...names].sort();
}

/** The EDS service names of the EDS clusters, sorted (the EDS subscription). */
export function edsNames(clusters: Iterable<DecodedCluster>): string[] {
  const names = new Set<string>();
  for (const c of clusters) if (c.source.type === 'eds') names.add(c.source.edsName);
  return [...names].sort();
}

/** The clusters the listeners name, directly (TCP) or through the route tables they use (HTTP). */
export function referencedClusters(listeners: ReadonlyMap<string, ListenerConfig>, routes: ReadonlyMap<string, RouteTable>): Set<string> {
  const names = new Set<string>();
  const add = (wcs: readonly WeightedCluster[]): void => wcs.forEach((wc) => names.add(wc.cluster));
  const addTable = (name: string): void =>
    routes.get(name)?.virtualHosts.forEach((vh) =>
      vh.routes.forEach((r) => {
        add(r.clusters);
        r.mirrors?.forEach((m) => names.add(m.cluster));
      }),
    );
  for (const l of listeners.values()) {
    if (l.protocol === 'tcp') add(l.clusters);
    else if (l.protocol === 'http') addTable(l.routeTable);
    else {
      for (const c of captureChains(l)) {
        if (c.action.kind === 'tcp') add(c.action.clusters);
        else addTable(c.action.routeTable);
      }
    }
  }
  return names;
}

/** Every chain of a capture listener, the default one last. */
function captureChains(l: CaptureListenerConfig): CaptureChain[] {
  return l.defaultChain ? [...l.chains, l.defaultChain] : [...l.chains];
}

/**
 * The runtime config of `d`, or every dangling reference. An HTTP listener whose route table
 * has not arrived yet is kept (the data path answers for it until RDS delivers the table);
 * an EDS cluster whose endpoints have not arrived has none yet. Neither is an error.
 */
export function buildRuntimeConfig(d: DecodedResources, versions: ResourceVersions): Result<RuntimeConfig, Problem[]> {
  const problems: Problem[] = [];
  const clusters = new Map<string, ClusterConfig>();
  for (const [name, c] of d.clusters) {
    const endpoints = c.source.type === 'static' ? c.source.endpoints : (d.endpoints.get(c.source.edsName)?.endpoints ?? []);
    clusters.set(name, { ...c.config, endpoints });
  }
  const missing = (resource: string, path: string, wcs: readonly WeightedCluster[]): void => {
    for (const wc of wcs) {
      if (!clusters.has(wc.cluster)) {
        problems.push({ code: XDS_PROBLEM.UNKNOWN_CLUSTER, resource, path, message: `cluster ${JSON.stringify(wc.cluster)} does not exist (not in the accepted clusters)` });
      }
    }
  };
  const bound = new Map<string, string>();
  for (const l of d.listeners.values()) {
    const resource = `listener ${JSON.stringify(l.name)}`;
    const key = `${l.address}:${l.port}`;
    const other = bound.get(key);
    if (other !== undefined) {
      problems.push({ code: XDS_PROBLEM.DUPLICATE, resource, path: 'address', message: `${key} is already used by listener ${JSON.stringify(other)}` });
    }
    bound.set(key, l.name);
    if (l.protocol === 'tcp') missing(resource, 'filterChains[0].filters[0].typedConfig', l.clusters);
    if (l.protocol === 'capture') for (const c of captureChains(l)) if (c.action.kind === 'tcp') missing(resource, `filter chain ${c.name}`, c.action.clusters);
  }
  const routes = new Map<string, RouteTable>();
  for (const name of referencedRouteNames(d.listeners.values())) {
    const table = d.routes.get(name);
    if (!table) continue;
    routes.set(name, table);
    table.virtualHosts.forEach((vh, i) =>
      vh.routes.forEach((r, j) => {
        missing(`route ${JSON.stringify(name)}`, `virtualHosts[${i}].routes[${j}].route`, r.clusters);
        if (r.mirrors)
          missing(
            `route ${JSON.stringify(name)}`,
            `virtualHosts[${i}].routes[${j}].route.requestMirrorPolicies`,
            r.mirrors.map((m) => ({ cluster: m.cluster, weight: 1 })),
          );
      }),
    );
  }
  if (problems.length > 0) return err(problems);
  return ok({ versions: { ...versions }, listeners: new Map(d.listeners), routes, clusters });
}
