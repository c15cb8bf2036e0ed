// Transparent mode (LDS): the two listeners of a captured proxy, on `::` taking IPv4 too.
// `virtualOutbound` takes every redirected outbound connection and picks a filter chain by its
// original destination: a Service's virtual IP and port (routed: HTTPRoutes, GRPCRoutes,
// TCPRoutes), or an endpoint address and port of a Service (not routed: Gateway API routes
// apply to traffic addressed to the Service, so a connection to one endpoint goes to that
// endpoint, over mTLS when security is on, as Istio passes it through), any other port of a
// STRICT captured workload (mTLS, see undeclared-ports.ts), else the outbound policy
// (PassthroughCluster or BlackHoleCluster); the virtual IPs of declared external hosts (see
// external-services.ts) have chains of their own. `virtualInbound` picks a chain
// by destination port (the inbound entries), else passes the connection on to where it was
// going (under STRICT only over mTLS). With mTLS on, an inbound entry's chain terminates it
// (STRICT: every connection to the port; PERMISSIVE: those that start with a ClientHello,
// plaintext going to the detected chains).
import type { MeshConfigSpec, Service, ServicePort } from '../../api/resource.js';
import type { Cluster, FilterChain, FilterChainMatch, Listener, RouteConfiguration } from '../../xds/envoy-types.js';
import {
  BLACKHOLE_CLUSTER,
  endpointClusterName,
  inboundClusterName,
  inboundRouteName,
  outboundClusterName,
  PASSTHROUGH_CLUSTER,
  serviceHost,
  VIRTUAL_INBOUND_LISTENER,
  VIRTUAL_OUTBOUND_LISTENER,
} from '../../xds/names.js';
import type { CapturePorts, InboundPort } from '../../xds/node-metadata.js';
import {
  HTTP_INSPECTOR,
  LISTENER_FILTER_HTTP_INSPECTOR,
  LISTENER_FILTER_ORIGINAL_DST,
  LISTENER_FILTER_TLS_INSPECTOR,
  ORIGINAL_DST_FILTER,
  TLS_INSPECTOR,
  typeUrl,
} from '../../xds/type-urls.js';
import { durationFromMs } from './clusters.js';
import { httpFilter, tcpFilter, weightedTcpFilter } from './listeners.js';
import type { MeshView } from './mesh-view.js';
import { inboundRouteTable } from './route-tables.js';
import { serviceKey } from './selection.js';
import { chainWithRbac, type RbacRules } from './authorization.js';
import { chainWithJwt, type HttpFilterConfig } from './request-authentication.js';
import { mtlsChain, type MtlsMode } from './security.js';
import type { HcmSettings } from './listeners.js';
import { inboundUndeclaredChain, undeclaredPortChains, type StrictPeer } from './undeclared-ports.js';

/** What protocol detection reports for HTTP: HTTP/1.x or the HTTP/2 preface (h2c). */
export const DETECTED_HTTP = ['http/1.1', 'h2c'];
/** The ALPN values a caller's HTTP pools offer over mTLS. */
const ALPN_HTTP = ['h2', 'http/1.1'];

const LISTENER_FILTERS = [
  { name: LISTENER_FILTER_ORIGINAL_DST, typedConfig: { '@type': typeUrl(ORIGINAL_DST_FILTER) } },
  { name: LISTENER_FILTER_TLS_INSPECTOR, typedConfig: { '@type': typeUrl(TLS_INSPECTOR) } },
  { name: LISTENER_FILTER_HTTP_INSPECTOR, typedConfig: { '@type': typeUrl(HTTP_INSPECTOR) } },
];

function captureListener(name: string, port: number, direction: 'INBOUND' | 'OUTBOUND', chains: FilterChain[], defaultChain: FilterChain, mesh: MeshConfigSpec): Listener {
  return {
    name,
    // IPv6 and IPv4 (dual stack): ip6tables redirects IPv6 connections here as iptables does IPv4 ones.
    address: { socketAddress: { address: '::', portValue: port, ipv4Compat: true } },
    trafficDirection: direction,
    useOriginalDst: { value: true },
    listenerFilters: LISTENER_FILTERS,
    listenerFiltersTimeout: durationFromMs(mesh.protocolDetectionTimeoutMs),
    continueOnListenerFiltersTimeout: true,
    filterChains: chains.sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0)),
    defaultFilterChain: defaultChain,
  };
}

const hostMatch = (ip: string, port: number): FilterChainMatch => ({
  prefixRanges: [{ addressPrefix: ip, prefixLen: { value: ip.includes(':') ? 128 : 32 } }],
  destinationPort: { value: port },
});

/** Where one Service port's connections go: HTTP by its route table; opaque TCP to weighted clusters. */
interface PortTargets {
  /** The port's route table; none for a declared `tcp` port. */
  table: RouteConfiguration | undefined;
  /** A `tcp` port: its TCPRoute's backends (else its own cluster). Other ports: their own cluster. */
  tcp: readonly { name: string; weight: number }[];
}

/**
 * The chains for one destination of a Service port. Declared `tcp`: opaque, no detection.
 * `http2`/`grpc`: HTTP. `http` (the default): HTTP when detection sees HTTP, else opaque TCP
 * to the same Service (a TLS ClientHello, or a protocol that is not HTTP).
 */
function serviceChains(name: string, match: FilterChainMatch, service: Service, port: ServicePort, targets: PortTargets, hcm: HcmSettings): FilterChain[] {
  const { name: svc, namespace } = service.metadata;
  const stat = `outbound_${serviceHost(svc, namespace)}_${port.port}`;
  const { table } = targets;
  const tcp: FilterChain = { name: `${name}|tcp`, filterChainMatch: match, filters: [weightedTcpFilter(stat, targets.tcp)] };
  if (port.appProtocol === 'tcp' || !table) return [tcp];
  const http = httpFilter(stat, table.name, hcm, 'OUTBOUND');
  if (port.appProtocol !== 'http') return [{ name: `${name}|http`, filterChainMatch: match, filters: [http] }];
  return [{ name: `${name}|http`, filterChainMatch: { ...match, applicationProtocols: DETECTED_HTTP }, filters: [http] }, tcp];
}

export interface CaptureResult {
  listeners: Listener[];
  routes: RouteConfiguration[];
  /** Clusters the chains use besides the mesh's (the endpoint clusters), before security is applied. */
  clusters: Cluster[];
  warnings: string[];
}

/** The ORIGINAL_DST cluster of a Service port's endpoints, from its EDS cluster (same connect timeout and metadata, so it gets the same mTLS identities). */
function endpointCluster(service: Cluster, name: string): Cluster {
  return { name, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', ...(service.connectTimeout ? { connectTimeout: service.connectTimeout } : {}), metadata: service.metadata };
}

/** The outbound capture listener of a proxy in namespace `callerNamespace`, with the route tables it uses. */
export function outboundCaptureListener(
  view: MeshView,
  vips: ReadonlyMap<string, string> | undefined,
  capture: CapturePorts,
  callerNamespace: string,
  mesh: MeshConfigSpec,
  hcm: HcmSettings,
  strictPeers: readonly StrictPeer[] = [],
  externalChains: readonly FilterChain[] = [],
): CaptureResult {
  const chains: FilterChain[] = [];
  const routes: RouteConfiguration[] = [];
  const warnings: string[] = [];
  const clusters: Cluster[] = [];
  const claimed = new Map<string, string>();
  for (const service of view.services) {
    const { name, namespace } = service.metadata;
    const vip = vips?.get(serviceKey(namespace, name));
    for (const port of service.spec.ports) {
      const owner = `${serviceHost(name, namespace)}:${port.port}`;
      // As in explicit mode: a TCPRoute splits a declared tcp port; an http port's opaque
      // fallback goes to the Service itself (a TCPRoute does not attach to an HTTP port).
      let targets: PortTargets;
      if (port.appProtocol === 'tcp') {
        const t = view.tcpClusters(service, port, callerNamespace);
        targets = { table: undefined, tcp: t.clusters };
        warnings.push(...t.warnings);
      } else {
        const t = view.upstreamTable(service, port, callerNamespace);
        targets = { table: t.table, tcp: [{ name: outboundClusterName(name, namespace, port.port), weight: 1 }] };
        routes.push(t.table);
        warnings.push(...t.warnings);
      }
      const serviceCluster = outboundClusterName(name, namespace, port.port);
      const destinations: { ip: string; port: number; endpoint: boolean }[] = vip ? [{ ip: vip, port: port.port, endpoint: false }] : [];
      const cla = view.endpoints.get(serviceCluster);
      for (const lb of cla?.endpoints.flatMap((l) => l.lbEndpoints) ?? [])
        destinations.push({ ip: lb.endpoint.address.socketAddress.address, port: lb.endpoint.address.socketAddress.portValue, endpoint: true });
      const toEndpoint = endpointClusterName(name, namespace, port.port);
      for (const d of destinations) {
        const key = `${d.ip.includes(':') ? `[${d.ip}]` : d.ip}:${d.port}`;
        // A workload selected by several Services (reviews and its subset reviews-v1) is reached
        // by its address as the first of them (by namespace, name): its chains come first.
        if (claimed.has(key)) continue;
        claimed.set(key, owner);
        if (!d.endpoint) chains.push(...serviceChains(`outbound|${key}`, hostMatch(d.ip, d.port), service, port, targets, hcm));
        else chains.push({ name: `outbound|${key}|endpoint`, filterChainMatch: hostMatch(d.ip, d.port), filters: [tcpFilter(`outbound_${owner.replace(':', '_')}`, toEndpoint)] });
      }
      const own = view.clusters.get(serviceCluster);
      if (own && destinations.some((d) => d.endpoint)) clusters.push(endpointCluster(own, toEndpoint));
    }
  }
  chains.push(...undeclaredPortChains(strictPeers));
  // Declared external hosts (their own virtual IPs): reachable whatever the outbound policy.
  chains.push(...externalChains);
  const policyCluster = mesh.outboundPolicy === 'Refuse' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
  const defaultChain: FilterChain = { name: `outbound|${policyCluster}`, filters: [tcpFilter(`outbound_${policyCluster}`, policyCluster)] };
  return { listeners: [captureListener(VIRTUAL_OUTBOUND_LISTENER, capture.outboundPort, 'OUTBOUND', chains, defaultChain, mesh)], routes, clusters, warnings };
}

/** How the inbound capture listener serves its entries: tracing and access logs, mTLS (none: security off), authorization. */
export interface InboundCaptureOptions {
  readonly hcm: HcmSettings;
  readonly mtls: MtlsMode | undefined;
  readonly authz: (entry: InboundPort, tcp: boolean) => RbacRules[];
  /** The JWT filter of an entry's HTTP chains (RequestAuthentications), if any. */
  readonly jwt?: (entry: InboundPort) => HttpFilterConfig | undefined;
  /** Authorization (as TCP) of ports no inbound entry names: the policies of every Service selecting the workload. */
  readonly undeclaredAuthz?: readonly RbacRules[];
}

/** The inbound capture listener: the chains of each inbound entry, by destination port. */
export function inboundCaptureListener(
  entries: readonly { entry: InboundPort; protocol: 'http' | 'tcp' }[],
  capture: CapturePorts,
  mesh: MeshConfigSpec,
  options: InboundCaptureOptions,
): CaptureResult {
  const chains: FilterChain[] = [];
  const routes: RouteConfiguration[] = [];
  for (const { entry, protocol } of entries) {
    if (protocol === 'http') routes.push(inboundRouteTable(entry));
    chains.push(...inboundChains(entry, protocol, options));
  }
  const defaultChain = inboundUndeclaredChain(options.mtls, options.undeclaredAuthz ?? []);
  return { listeners: [captureListener(VIRTUAL_INBOUND_LISTENER, capture.inboundPort, 'INBOUND', chains, defaultChain, mesh)], routes, clusters: [], warnings: [] };
}

/**
 * One entry's chains. Plaintext: an HTTP chain for what detection sees as HTTP and an opaque
 * one (declared tcp: the opaque one only). mTLS: an HTTP port has an HTTP chain for a
 * ClientHello whose ALPN offers HTTP (the caller's HTTP pools offer `h2` or `http/1.1`) and an
 * opaque one for the rest (the caller's TCP relay offers none: bytes its detection did not
 * take for HTTP, the application's own TLS), as Istio tells them apart. STRICT: plaintext
 * gets a handshake it fails; PERMISSIVE: it goes to the detected chains.
 */
function inboundChains(entry: InboundPort, protocol: 'http' | 'tcp', options: InboundCaptureOptions): FilterChain[] {
  const port: FilterChainMatch = { destinationPort: { value: entry.port } };
  const name = `inbound|${entry.port}`;
  const stat = `inbound_${entry.port}`;
  const tcpRules = options.authz(entry, true);
  const httpRules = protocol === 'http' ? options.authz(entry, false) : [];
  const tcp = (match: FilterChainMatch, suffix: string): FilterChain =>
    chainWithRbac({ name: `${name}|${suffix}`, filterChainMatch: match, filters: [tcpFilter(stat, inboundClusterName(entry.appPort))] }, tcpRules);
  const jwt = protocol === 'http' ? options.jwt?.(entry) : undefined;
  const http = (match: FilterChainMatch, suffix: string): FilterChain =>
    chainWithJwt(chainWithRbac({ name: `${name}|${suffix}`, filterChainMatch: match, filters: [httpFilter(stat, inboundRouteName(entry.port), options.hcm)] }, httpRules), jwt);
  const plaintext = (match: FilterChainMatch): FilterChain[] =>
    protocol === 'tcp' ? [tcp(match, 'tcp')] : [http({ ...match, applicationProtocols: DETECTED_HTTP }, 'http'), tcp(match, 'tcp')];
  if (options.mtls === undefined) return plaintext(port);
  const strict = options.mtls === 'STRICT';
  const tlsPort: FilterChainMatch = { ...port, transportProtocol: 'tls' };
  const rawPort: FilterChainMatch = { ...port, transportProtocol: 'raw_buffer' };
  // A declared tcp port needs no detection when STRICT: one chain, and plaintext fails its handshake.
  if (protocol === 'tcp') return strict ? [mtlsChain(tcp(port, 'mtls'))] : [mtlsChain(tcp(tlsPort, 'mtls')), ...plaintext(rawPort)];
  const mtls = [mtlsChain(http({ ...tlsPort, applicationProtocols: ALPN_HTTP }, 'mtls-http')), mtlsChain(tcp(tlsPort, 'mtls'))];
  // STRICT: plaintext goes to a chain that wants a handshake too, so it is refused (and counted) like any failed one.
  return strict ? [...mtls, mtlsChain(tcp(rawPort, 'plaintext-refused'))] : [...mtls, ...plaintext(rawPort)];
}
