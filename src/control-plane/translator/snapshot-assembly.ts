// The last step of every translation: resources in name order with a version per type.
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../xds/envoy-types.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import type { Snapshot } from './types.js';
import { typeVersion } from './versions.js';

/** The snapshot of these resources; `endpoints` must already be in name order. */
export function assembleSnapshot(
  listeners: Listener[],
  routes: RouteConfiguration[],
  clusters: Cluster[],
  endpoints: ReadonlyMap<string, ClusterLoadAssignment>,
  warnings: ReadonlySet<string>,
): Snapshot {
  const snapshot = { listeners: byName(listeners), routes: byName(routes), clusters: byName(clusters), endpoints };
  return {
    ...snapshot,
    versions: {
      [CLUSTER_TYPE]: typeVersion(snapshot.clusters),
      [ENDPOINT_TYPE]: typeVersion(snapshot.endpoints),
      [LISTENER_TYPE]: typeVersion(snapshot.listeners),
      [ROUTE_TYPE]: typeVersion(snapshot.routes),
    },
    warnings: [...warnings],
  };
}

function byName<T extends { name: string }>(items: T[]): Map<string, T> {
  // The same route table may be pushed twice (an upstream listener and a capture chain); it is one object.
  return new Map(items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((i) => [i.name, i]));
}
