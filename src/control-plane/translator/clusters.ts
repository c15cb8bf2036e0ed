// Clusters: one EDS cluster per Service port in the mesh, one STATIC cluster per inbound
// application port of the proxy.
import { jsonToStruct } from '../../xds/node-metadata.js';
import type { LoadBalancerPolicy, MeshConfigSpec, Service, ServicePort } from '../../api/resource.js';
import type { Cluster, Duration } from '../../xds/envoy-types.js';
import { BLACKHOLE_CLUSTER, inboundClusterName, outboundClusterName, PASSTHROUGH_CLUSTER } from '../../xds/names.js';

/** The Envoy form of a duration given in milliseconds. */
export function durationFromMs(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

const LB_POLICIES: Record<LoadBalancerPolicy, Cluster['lbPolicy']> = { RoundRobin: 'ROUND_ROBIN', LeastRequest: 'LEAST_REQUEST' };

/** The EDS cluster of one Service port: `outbound|<port>||<name>.<ns>`; its endpoints come by EDS under the same name. */
export function outboundCluster(service: Service, port: ServicePort, mesh: MeshConfigSpec, vip?: string): Cluster {
  const { name, namespace } = service.metadata;
  return {
    name: outboundClusterName(name, namespace, port.port),
    type: 'EDS',
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } },
    connectTimeout: durationFromMs(mesh.connectTimeoutMs),
    lbPolicy: LB_POLICIES[mesh.loadBalancer] ?? 'ROUND_ROBIN',
    metadata: { filterMetadata: { trellis: jsonToStruct({ service: name, namespace, port: port.port, protocol: port.appProtocol, ...(vip ? { vip } : {}) }) } },
  };
}

/** The STATIC cluster to the local application: `inbound|<appPort>` → 127.0.0.1:appPort. */
export function inboundCluster(appPort: number, service: string, namespace: string, mesh: MeshConfigSpec): Cluster {
  const name = inboundClusterName(appPort);
  return {
    name,
    type: 'STATIC',
    connectTimeout: durationFromMs(mesh.connectTimeoutMs),
    lbPolicy: 'ROUND_ROBIN',
    loadAssignment: {
      clusterName: name,
      endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: appPort } } } }] }],
    },
    metadata: { filterMetadata: { trellis: jsonToStruct({ service, namespace, port: appPort, direction: 'inbound' }) } },
  };
}

/** Transparent mode: connections go on to their original destination (outbound policy PassThrough, unknown inbound ports). */
export function passthroughCluster(mesh: MeshConfigSpec): Cluster {
  return { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: durationFromMs(mesh.connectTimeoutMs) };
}

/** Transparent mode, outbound policy Refuse: a cluster without endpoints, whose connections the proxy refuses and counts. */
export function blackholeCluster(mesh: MeshConfigSpec): Cluster {
  return { name: BLACKHOLE_CLUSTER, type: 'STATIC', connectTimeout: durationFromMs(mesh.connectTimeoutMs), loadAssignment: { clusterName: BLACKHOLE_CLUSTER, endpoints: [] } };
}
