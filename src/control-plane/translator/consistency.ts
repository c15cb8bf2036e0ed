// The consistency check of a snapshot (as go-control-plane does before setting one): every
// route table and cluster a listener or route names exists, and every EDS cluster has endpoints.
import type { RouteConfiguration } from '../../xds/envoy-types.js';
import type { Snapshot } from './types.js';

/** The problems of a snapshot; empty when it is consistent. */
export function checkSnapshot(s: Pick<Snapshot, 'listeners' | 'routes' | 'clusters' | 'endpoints'>): string[] {
  const problems: string[] = [];
  const needCluster = (name: string, where: string) => {
    if (!s.clusters.has(name)) problems.push(`${where}: cluster ${name} does not exist`);
  };
  const checkRoutes = (rc: RouteConfiguration, table: string) => {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes) {
        const where = `${table} virtual host ${vh.name} route ${r.name ?? '?'}`;
        if (r.route?.cluster) needCluster(r.route.cluster, where);
        for (const c of r.route?.weightedClusters?.clusters ?? []) needCluster(c.name, where);
        for (const m of r.route?.requestMirrorPolicies ?? []) needCluster(m.cluster, where);
      }
    }
  };
  for (const l of s.listeners.values()) {
    const api = l.apiListener?.apiListener.rds.routeConfigName;
    if (api !== undefined && !s.routes.has(api)) problems.push(`listener ${l.name}: route table ${api} does not exist`);
    // The terminal filter of each chain (RBAC filters may come before it) names what must exist.
    for (const f of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])].map((c) => c.filters.at(-1)!)) {
      if (f.name === 'envoy.filters.network.tcp_proxy') {
        if (f.typedConfig.cluster) needCluster(f.typedConfig.cluster, `listener ${l.name}`);
        for (const c of f.typedConfig.weightedClusters?.clusters ?? []) needCluster(c.name, `listener ${l.name}`);
      } else if (f.typedConfig.routeConfig) {
        checkRoutes(f.typedConfig.routeConfig, `listener ${l.name} inline route table ${f.typedConfig.routeConfig.name}`);
      } else if (!s.routes.has(f.typedConfig.rds?.routeConfigName ?? '')) {
        problems.push(`listener ${l.name}: route table ${f.typedConfig.rds?.routeConfigName} does not exist`);
      }
    }
  }
  for (const rc of s.routes.values()) checkRoutes(rc, `route table ${rc.name}`);
  for (const c of s.clusters.values()) {
    if (c.type === 'EDS' && !s.endpoints.has(c.name)) problems.push(`cluster ${c.name}: no endpoints (ClusterLoadAssignment) of that name`);
  }
  return problems;
}
