// Clusters: one EDS cluster per Service port in the mesh, one STATIC cluster per inbound
// application port of the proxy.
import { jsonToStruct } from '../../xds/node-metadata.js';
import type { AppProtocol, LoadBalancerPolicy, MeshConfigSpec, Service, ServicePort } from '../../api/resource.js';
import type { Cluster, Duration, HttpProtocolOptions } from '../../xds/envoy-types.js';
import { HTTP_PROTOCOL_OPTIONS, typeUrl } from '../../xds/type-urls.js';
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

/** The HTTP version an application speaks on a port: HTTP/1.1 or HTTP/2 (h2c). */
export type AppHttpVersion = 'http1' | 'http2';

/**
 * The HTTP version of an app port from the appProtocols its Services declare for it: `http` is
 * HTTP/1.1, `http2` and `grpc` are HTTP/2. Undefined (the proxy forwards in the caller's
 * protocol) when none declares one or they disagree.
 */
export function appHttpVersion(declared: readonly AppProtocol[]): AppHttpVersion | undefined {
  let version: AppHttpVersion | undefined;
  for (const p of declared) {
    if (p === 'tcp') continue;
    const v: AppHttpVersion = p === 'http' ? 'http1' : 'http2';
    if (version !== undefined && version !== v) return undefined;
    version = v;
  }
  return version;
}

/** Envoy's explicit upstream protocol for a cluster (`typedExtensionProtocolOptions`). */
function explicitProtocol(version: AppHttpVersion): NonNullable<Cluster['typedExtensionProtocolOptions']> {
  const options: HttpProtocolOptions = {
    '@type': typeUrl(HTTP_PROTOCOL_OPTIONS),
    explicitHttpConfig: version === 'http1' ? { httpProtocolOptions: {} } : { http2ProtocolOptions: {} },
  };
  return { [HTTP_PROTOCOL_OPTIONS]: options };
}

/**
 * The STATIC cluster to the local application: `inbound|<appPort>` → 127.0.0.1:appPort, spoken
 * to in `version` when the app port's protocol is declared (else in the caller's protocol).
 */
export function inboundCluster(appPort: number, service: string, namespace: string, mesh: MeshConfigSpec, version?: AppHttpVersion): Cluster {
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
    ...(version !== undefined ? { typedExtensionProtocolOptions: explicitProtocol(version) } : {}),
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
