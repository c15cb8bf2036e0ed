// External services (ExternalService): a cluster per host and port (static addresses, or the
// host resolved by the proxy when it connects), TLS origination on `http` ports when asked,
// and in transparent mode the capture chains of each host's virtual IP: `http` ports routed
// by a route table (retries, timeouts, metrics per request), the others relayed as TCP.
import type { ExternalPort, ExternalService, MeshConfigSpec } from '../../api/resource.js';
import type { Cluster, FilterChain, RouteConfiguration, VirtualHost } from '../../xds/envoy-types.js';
import type { TransportSocket } from '../../xds/tls-types.js';
import { jsonToStruct } from '../../xds/node-metadata.js';
import { externalClusterName, externalRouteName, externalVipKey } from '../../xds/names.js';
import { TRANSPORT_SOCKET_TLS, typeUrl, UPSTREAM_TLS_CONTEXT } from '../../xds/type-urls.js';
import { durationFromMs } from './clusters.js';
import { httpFilter, tcpFilter, type HcmSettings } from './listeners.js';
import { NO_TIMEOUT } from './service-routes.js';

/** One port of one host of an ExternalService: what a cluster, a chain and a route table are made for. */
export interface ExternalTarget {
  readonly service: ExternalService;
  readonly host: string;
  readonly port: ExternalPort;
}

/** The targets of the mesh, in (namespace, name) order; a host declared twice belongs to the first, with a warning for the others. */
export function externalTargets(services: readonly ExternalService[]): { targets: ExternalTarget[]; warnings: string[] } {
  const sorted = [...services].sort((a, b) => key(a).localeCompare(key(b)));
  const owners = new Map<string, string>();
  const targets: ExternalTarget[] = [];
  const warnings: string[] = [];
  for (const service of sorted) {
    for (const host of service.spec.hosts) {
      const owner = owners.get(host);
      if (owner !== undefined) {
        warnings.push(`ExternalService ${key(service)}: host ${host} is already declared by ExternalService ${owner}; this declaration is ignored`);
        continue;
      }
      owners.set(host, key(service));
      for (const port of service.spec.ports) targets.push({ service, host, port });
    }
  }
  return { targets, warnings };
}

const key = (s: ExternalService): string => `${s.metadata.namespace}/${s.metadata.name}`;

/** The virtual-IP keys of every declared host (see externalVipKey). */
export const externalVipKeys = (services: readonly ExternalService[]): string[] => [...new Set(services.flatMap((s) => s.spec.hosts.map(externalVipKey)))];

/** The UpstreamTlsContext of TLS origination: the server's certificate checked against the given CAs (else the system's) and the server name. */
function originationTls(service: ExternalService, host: string): TransportSocket {
  const tls = service.spec.tls!;
  const sni = tls.sni ?? host;
  return {
    name: TRANSPORT_SOCKET_TLS,
    typedConfig: {
      '@type': typeUrl(UPSTREAM_TLS_CONTEXT) as 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni,
      commonTlsContext: {
        tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
        validationContext: {
          ...(tls.caCertificates !== undefined ? { trustedCa: { inlineString: tls.caCertificates } } : { systemRootCerts: {} }),
          matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: sni } }],
        },
        alpnProtocols: ['http/1.1'],
      },
    },
  };
}

/**
 * The cluster of one target. Metadata names the ExternalService (`service`, `namespace`: metrics
 * and logs say `name.namespace`, one series per resource however many hosts it has), the host
 * and its virtual IP (the proxy's DNS responder answers the host with it).
 */
export function externalCluster(t: ExternalTarget, mesh: MeshConfigSpec, vip: string | undefined): Cluster {
  const { service, host, port } = t;
  const name = externalClusterName(host, port.port);
  const endpoints = service.spec.endpoints?.map((e) => ({ address: e.address, port: e.port ?? port.targetPort })) ?? [{ address: host, port: port.targetPort }];
  const originate = service.spec.tls !== undefined && port.protocol === 'http';
  return {
    name,
    type: service.spec.endpoints ? 'STATIC' : 'STRICT_DNS',
    connectTimeout: durationFromMs(mesh.connectTimeoutMs),
    lbPolicy: 'ROUND_ROBIN',
    loadAssignment: {
      clusterName: name,
      endpoints: [{ lbEndpoints: endpoints.map((e) => ({ endpoint: { address: { socketAddress: { address: e.address, portValue: e.port } } } })) }],
    },
    metadata: {
      filterMetadata: {
        trellis: jsonToStruct({
          service: service.metadata.name,
          namespace: service.metadata.namespace,
          port: port.port,
          protocol: port.protocol,
          external: true,
          hosts: [host],
          ...(vip ? { vip } : {}),
        }),
      },
    },
    ...(originate ? { transportSocket: originationTls(service, host) } : {}),
  };
}

/** The virtual host of an `http` target: the host, and `host:port`; every request to its cluster, without a timeout of its own (as a Service's default route). */
export function externalVirtualHost(t: ExternalTarget): VirtualHost {
  const domains = t.port.port === 80 ? [t.host, `${t.host}:80`] : [`${t.host}:${t.port.port}`];
  const cluster = externalClusterName(t.host, t.port.port);
  return { name: `${t.host}:${t.port.port}`, domains, routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: NO_TIMEOUT } }] };
}

/** The route table of an `http` target in transparent mode: the destination is known, so every Host goes to it. */
export function externalRouteTable(t: ExternalTarget): RouteConfiguration {
  const vhost = externalVirtualHost(t);
  return { name: externalRouteName(t.host, t.port.port), virtualHosts: [{ ...vhost, domains: ['*'] }] };
}

/** The capture chains of a target's virtual IP and port: HTTP (by detection) to its route table on an `http` port, else TCP to its cluster. */
export function externalChains(t: ExternalTarget, vip: string, hcm: HcmSettings, detectedHttp: readonly string[]): FilterChain[] {
  const match = { prefixRanges: [{ addressPrefix: vip, prefixLen: { value: vip.includes(':') ? 128 : 32 } }], destinationPort: { value: t.port.port } };
  const name = `outbound|${vip}:${t.port.port}`;
  const stat = `outbound_${t.host}_${t.port.port}`;
  const tcp: FilterChain = { name: `${name}|tcp`, filterChainMatch: match, filters: [tcpFilter(stat, externalClusterName(t.host, t.port.port))] };
  if (t.port.protocol !== 'http') return [tcp];
  const http: FilterChain = {
    name: `${name}|http`,
    filterChainMatch: { ...match, applicationProtocols: [...detectedHttp] },
    filters: [httpFilter(stat, externalRouteName(t.host, t.port.port), hcm, 'OUTBOUND')],
  };
  // Without origination, what is not HTTP (a client's own TLS) goes through as TCP; with it, such bytes would be wrapped in TLS twice, so they meet the outbound policy.
  return t.service.spec.tls !== undefined ? [http] : [http, tcp];
}

/** What every proxy of one input gets from its ExternalServices: computed once per input object. */
export interface ExternalView {
  readonly clusters: readonly Cluster[];
  /** Transparent mode: the capture chains of each host's virtual IP, and their route tables. */
  readonly chains: (hcm: HcmSettings, detectedHttp: readonly string[]) => FilterChain[];
  readonly routes: readonly RouteConfiguration[];
  /** Explicit mode: the HTTP proxy listener's virtual hosts of `http` ports. */
  readonly virtualHosts: readonly VirtualHost[];
  readonly warnings: readonly string[];
}

const views = new WeakMap<object, ExternalView>();

/** The external view of an input (cached per input object, as meshView). */
export function externalView(input: { externalServices?: readonly ExternalService[]; virtualIps?: ReadonlyMap<string, string>; meshConfig: MeshConfigSpec }): ExternalView {
  let view = views.get(input);
  if (view) return view;
  const { targets, warnings } = externalTargets(input.externalServices ?? []);
  const vipOf = (t: ExternalTarget) => input.virtualIps?.get(externalVipKey(t.host));
  const http = targets.filter((t) => t.port.protocol === 'http');
  view = {
    clusters: targets.map((t) => externalCluster(t, input.meshConfig, vipOf(t))),
    chains: (hcm, detected) => targets.flatMap((t) => (vipOf(t) ? externalChains(t, vipOf(t)!, hcm, detected) : [])),
    routes: http.filter((t) => vipOf(t) !== undefined).map(externalRouteTable),
    virtualHosts: http.map(externalVirtualHost),
    warnings,
  };
  views.set(input, view);
  return view;
}
