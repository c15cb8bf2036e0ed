// Test support: builders for the Envoy resources the translator sends, and `wire` to pass
// them through protobuf encoding so tests see exactly what the client decodes.
import type { Cluster, ClusterLoadAssignment, Listener, Route, RouteConfiguration } from '../../xds/envoy-types.js';
import { decodeMessage, encodeMessage } from '../../xds/protos.js';
import { CLUSTER, CLUSTER_LOAD_ASSIGNMENT, DISCOVERY_RESPONSE, HTTP_CONNECTION_MANAGER, LISTENER, ROUTE_CONFIGURATION, ROUTER, TCP_PROXY, typeUrl } from '../../xds/type-urls.js';
import { jsonToStruct } from '../../xds/node-metadata.js';

/** `value` encoded as `typeName` and decoded again, as the client receives it. */
export function wire<T = Record<string, unknown>>(typeName: string, value: object): T {
  return decodeMessage<T>(typeName, encodeMessage(typeName, value));
}

/** A resource as it sits in a DiscoveryResponse (an Any with `@type`). */
export function any(typeName: string, value: object): Record<string, unknown> {
  return { '@type': typeUrl(typeName), ...value };
}

/** Resources of one type as they come out of a decoded DiscoveryResponse (with `@type`). */
export function wireResources(typeName: string, ...resources: object[]): unknown[] {
  const res = wire<{ resources?: unknown[] }>(DISCOVERY_RESPONSE, { typeUrl: typeUrl(typeName), resources: resources.map((r) => any(typeName, r)) });
  return res.resources ?? [];
}

const addr = (address: string, portValue: number) => ({ socketAddress: { address, portValue } });
const ads = { ads: {}, resourceApiVersion: 'V3' as const };

export function httpListener(name: string, port: number, routeConfigName: string, direction: 'INBOUND' | 'OUTBOUND' = 'OUTBOUND'): Listener {
  return {
    name,
    address: addr('127.0.0.1', port),
    trafficDirection: direction,
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: {
              '@type': typeUrl(HTTP_CONNECTION_MANAGER),
              statPrefix: name,
              codecType: 'AUTO',
              rds: { routeConfigName, configSource: ads },
              httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': typeUrl(ROUTER) } }],
            },
          },
        ],
      },
    ],
  };
}

export function tcpListener(name: string, port: number, cluster: string): Listener {
  return {
    name,
    address: addr('127.0.0.1', port),
    trafficDirection: 'OUTBOUND',
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typedConfig: { '@type': typeUrl(TCP_PROXY), statPrefix: name, cluster },
          },
        ],
      },
    ],
  };
}

export function routeConfig(name: string, routes: Route[], domains = ['*']): RouteConfiguration {
  return { name, virtualHosts: [{ name: 'vh', domains, routes }] };
}

export function prefixRoute(prefix: string, cluster: string): Route {
  return { name: `to-${cluster}`, match: { prefix }, route: { cluster } };
}

export function edsCluster(name: string, service = 'payments', namespace = 'default'): Cluster {
  return {
    name,
    type: 'EDS',
    edsClusterConfig: { edsConfig: ads },
    connectTimeout: { seconds: 1 },
    lbPolicy: 'ROUND_ROBIN',
    metadata: { filterMetadata: { trellis: jsonToStruct({ service, namespace, port: 8080 }) } },
  };
}

export function staticCluster(name: string, port: number): Cluster {
  return { name, type: 'STATIC', lbPolicy: 'ROUND_ROBIN', loadAssignment: cla(name, [['127.0.0.1', port]]) };
}

export function cla(clusterName: string, endpoints: [string, number][]): ClusterLoadAssignment {
  return {
    clusterName,
    endpoints: [{ lbEndpoints: endpoints.map(([a, p]) => ({ endpoint: { address: addr(a, p) }, healthStatus: 'HEALTHY' as const })) }],
  };
}

export const wireListener = (l: object) => wire(LISTENER, l);
export const wireRoute = (r: object) => wire(ROUTE_CONFIGURATION, r);
export const wireCluster = (c: object) => wire(CLUSTER, c);
export const wireCla = (c: object) => wire(CLUSTER_LOAD_ASSIGNMENT, c);
