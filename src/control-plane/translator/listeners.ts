// Listeners (LDS): inbound per application port on the proxy's address, one per upstream in
// explicit mode on 127.0.0.1, and the HTTP proxy listener.
import type { FilterChain, Listener, NetworkFilter } from '../../xds/envoy-types.js';
import type { HcmTelemetry } from './telemetry.js';
import type { HcmPathNormalization } from './path-normalization.js';

/** The mesh-wide fields spread into every HTTP connection manager of a snapshot. */
export type HcmSettings = HcmTelemetry & HcmPathNormalization;
import {
  FILTER_FAULT,
  FILTER_HTTP_CONNECTION_MANAGER,
  FILTER_LOCAL_RATE_LIMIT,
  FILTER_ROUTER,
  FILTER_TCP_PROXY,
  HTTP_CONNECTION_MANAGER,
  HTTP_FAULT,
  LOCAL_RATE_LIMIT,
  ROUTER,
  TCP_PROXY,
  typeUrl,
} from '../../xds/type-urls.js';

const HCM_TYPE = typeUrl(HTTP_CONNECTION_MANAGER);
const TCP_PROXY_TYPE = typeUrl(TCP_PROXY);

/** Where a listener listens and which way its traffic goes. */
export interface ListenerPlace {
  name: string;
  address: string;
  port: number;
  direction: 'INBOUND' | 'OUTBOUND';
  statPrefix: string;
}

function listener(place: ListenerPlace, chain: FilterChain): Listener {
  return {
    name: place.name,
    address: { socketAddress: { address: place.address, portValue: place.port } },
    trafficDirection: place.direction,
    filterChains: [chain],
  };
}

/** The router filter, last of every HTTP filter list. */
export const ROUTER_FILTER = { name: FILTER_ROUTER, typedConfig: { '@type': typeUrl(ROUTER) } };
// Outbound requests may get faults and local rate limits from the destination's TrafficPolicy
// (per virtual host or route); with no per-route config these filters do nothing.
const OUTBOUND_FILTERS = [
  { name: FILTER_FAULT, typedConfig: { '@type': typeUrl(HTTP_FAULT) } },
  { name: FILTER_LOCAL_RATE_LIMIT, typedConfig: { '@type': typeUrl(LOCAL_RATE_LIMIT), statPrefix: 'outbound_local_rate_limit' } },
  ROUTER_FILTER,
];
const INBOUND_FILTERS = [ROUTER_FILTER];

/**
 * The HTTP connection manager (HTTP/1.1 and HTTP/2 accepted) routed by the RDS table `routeConfigName`, with the mesh's tracing, access log and path normalization.
 * Outbound ones also carry the fault and local rate limit filters.
 */
export function httpFilter(statPrefix: string, routeConfigName: string, hcm: HcmSettings = {}, direction: 'INBOUND' | 'OUTBOUND' = 'INBOUND'): NetworkFilter {
  return {
    name: FILTER_HTTP_CONNECTION_MANAGER,
    typedConfig: {
      '@type': HCM_TYPE,
      statPrefix,
      codecType: 'AUTO',
      rds: { routeConfigName, configSource: { ads: {}, resourceApiVersion: 'V3' } },
      httpFilters: direction === 'OUTBOUND' ? OUTBOUND_FILTERS : INBOUND_FILTERS,
      ...hcm,
    },
  };
}

/** The TCP proxy forwarding every connection to `cluster`. */
export function tcpFilter(statPrefix: string, cluster: string): NetworkFilter {
  return { name: FILTER_TCP_PROXY, typedConfig: { '@type': TCP_PROXY_TYPE, statPrefix, cluster } };
}

/** An HTTP listener (HTTP/1.1 and HTTP/2 accepted) routed by the RDS table `routeConfigName`, with the mesh's tracing and access log. */
export function httpListener(place: ListenerPlace, routeConfigName: string, hcm: HcmSettings = {}): Listener {
  return listener(place, { filters: [httpFilter(place.statPrefix, routeConfigName, hcm, place.direction)] });
}

/** The TCP proxy splitting connections among weighted clusters (a TCPRoute); with one cluster, `tcpFilter` to it. */
export function weightedTcpFilter(statPrefix: string, clusters: readonly { name: string; weight: number }[]): NetworkFilter {
  if (clusters.length === 1) return tcpFilter(statPrefix, clusters[0]!.name);
  return { name: FILTER_TCP_PROXY, typedConfig: { '@type': TCP_PROXY_TYPE, statPrefix, weightedClusters: { clusters: [...clusters] } } };
}

/** An opaque TCP listener splitting connections among weighted clusters (a TCPRoute); with one cluster, forwarding to it. */
export function weightedTcpListener(place: ListenerPlace, clusters: readonly { name: string; weight: number }[]): Listener {
  return listener(place, { filters: [weightedTcpFilter(place.statPrefix, clusters)] });
}

/** An opaque TCP listener forwarding every connection to `cluster`. */
export function tcpListener(place: ListenerPlace, cluster: string): Listener {
  return listener(place, { filters: [tcpFilter(place.statPrefix, cluster)] });
}
