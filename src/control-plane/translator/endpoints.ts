// Endpoints (EDS) of one Service port: the workloads the Service selects and admits (see
// selection.ts), each at its proxy's inbound port for the Service's targetPort.
import { jsonToStruct } from '../../xds/node-metadata.js';
import type { Service, ServicePort } from '../../api/resource.js';
import type { ClusterLoadAssignment, LbEndpoint } from '../../xds/envoy-types.js';
import { outboundClusterName } from '../../xds/names.js';
import { takesTraffic, type Workload } from '../registry/workload.js';
import { admits, inboundFor } from './selection.js';

/**
 * The load assignment of a Service port. Connected workloads are HEALTHY; workloads whose
 * proxy is gone but within the grace period are UNHEALTHY (proxies use them only when no
 * endpoint is healthy). Ordered by workload id; workloads without an inbound entry for the
 * targetPort are left out, and so are workloads whose proxy reports them not ready or draining
 * (withdrawn rather than UNHEALTHY: callers must not fall back on them when no endpoint is healthy).
 */
export function loadAssignment(service: Service, port: ServicePort, workloads: readonly Workload[]): ClusterLoadAssignment {
  const { name, namespace } = service.metadata;
  const lbEndpoints: LbEndpoint[] = [];
  const selected = workloads.filter((w) => admits(service, w)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const w of selected) {
    if (!takesTraffic(w)) continue;
    const inbound = inboundFor(w.inbound, port.targetPort);
    if (!inbound) continue;
    lbEndpoints.push({
      endpoint: { address: { socketAddress: { address: w.address, portValue: inbound.port } } },
      healthStatus: w.connected ? 'HEALTHY' : 'UNHEALTHY',
      metadata: { filterMetadata: { trellis: jsonToStruct({ workload: w.id, labels: { ...w.labels } }) } },
    });
  }
  return { clusterName: outboundClusterName(name, namespace, port.port), endpoints: lbEndpoints.length > 0 ? [{ lbEndpoints }] : [] };
}
