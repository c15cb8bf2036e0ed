// The snapshot of an ingress gateway (node kind `gateway`): one listener per port of its Gateway,
// an HTTP connection manager per port routed by RDS (a virtual host per host name of the routes
// attached, their rules translated as mesh routes are), HTTPS chains matched by SNI, each with
// its certificates over SDS, and the mesh's outbound clusters (mTLS to the backends).
import type { Secret as StoredSecret } from '../../api/resource.js';
import type { FilterChain, Listener, RouteConfiguration, VirtualHost } from '../../xds/envoy-types.js';
import type { Secret as SdsSecret, TransportSocket } from '../../xds/tls-types.js';
import { DOWNSTREAM_TLS_CONTEXT, TRANSPORT_SOCKET_TLS, typeUrl } from '../../xds/type-urls.js';
import { gatewayPortName, gatewaySecretName } from '../../xds/names.js';
import { gatewayKey, gatewayWorld, routeKey, type GatewayRoute, type ListenerModel } from './gateway-attachment.js';
import { httpFilter, type HcmSettings } from './listeners.js';
import { meshView } from './mesh-view.js';
import { rankedRoutes } from './service-routes.js';
import { indexPolicies } from './traffic-policy.js';
import { secureOutboundCluster } from './security.js';
import { assembleSnapshot } from './snapshot-assembly.js';
import { hcmTelemetry } from './telemetry.js';
import { hcmPathNormalization } from './path-normalization.js';
import type { ProxyNode, Snapshot, TranslatorInput } from './types.js';

const ADS = { ads: {}, resourceApiVersion: 'V3' as const };
const ALPN = ['h2', 'http/1.1'];

function terminatingTls(certificates: readonly StoredSecret[]): TransportSocket {
  return {
    name: TRANSPORT_SOCKET_TLS,
    typedConfig: {
      '@type': typeUrl(DOWNSTREAM_TLS_CONTEXT) as 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      commonTlsContext: {
        tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
        tlsCertificateSdsSecretConfigs: certificates.map((s) => ({ name: gatewaySecretName(s.metadata.namespace, s.metadata.name), sdsConfig: ADS })),
        alpnProtocols: ALPN,
      },
    },
  };
}

/** The SDS secret of a stored TLS Secret: chain and key as PEM. */
function sdsSecret(s: StoredSecret): SdsSecret {
  const pem = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');
  return {
    name: gatewaySecretName(s.metadata.namespace, s.metadata.name),
    tlsCertificate: { certificateChain: { inlineString: pem(s.data['tls.crt']) }, privateKey: { inlineString: pem(s.data['tls.key']) } },
  };
}

/** The route table of one port: one virtual host per host name, the routes of every listener on it that carry that name. */
function portRouteTable(port: number, listeners: readonly ListenerModel[], input: TranslatorInput, warnings: Set<string>): RouteConfiguration {
  const view = meshView(input);
  const policies = indexPolicies(input.trafficPolicies ?? [], (ns, name) => view.lookup(ns, name) !== undefined).lookup;
  // A route on two listeners of the port with the same host name is routed once.
  const byHost = new Map<string, Map<string, GatewayRoute>>();
  for (const l of listeners) {
    for (const { route, hostnames } of l.routes) {
      for (const h of hostnames) {
        let routes = byHost.get(h);
        if (!routes) byHost.set(h, (routes = new Map<string, GatewayRoute>()));
        routes.set(routeKey(route.resource), route);
      }
    }
  }
  const virtualHosts: VirtualHost[] = [];
  // Exact names first, then wildcards by length, `*` last (the proxy's router ranks them the same way).
  const hosts = [...byHost.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const h of hosts) {
    const w: string[] = [];
    const routes = rankedRoutes(
      [...byHost.get(h)!.values()].map((r) => r.rules),
      view.lookup,
      undefined,
      policies,
      w,
    );
    w.forEach((x) => warnings.add(x));
    virtualHosts.push({ name: `${gatewayPortName(port)}/${h}`, domains: [h], routes });
  }
  return { name: gatewayPortName(port), virtualHosts };
}

const rank = (h: string): number => (h === '*' ? 2 : h.startsWith('*.') ? 1 : 0);

/** The listener of one port: plaintext HTTP, or HTTPS chains by SNI with a default chain for clients that send none. */
function portListener(port: number, listeners: readonly ListenerModel[], address: string, hcm: HcmSettings): Listener {
  const name = gatewayPortName(port);
  const filters = [httpFilter(`gateway_${port}`, name, hcm, 'OUTBOUND')];
  const base = { name, address: { socketAddress: { address, portValue: port } }, trafficDirection: 'OUTBOUND' as const };
  if (listeners[0]!.listener.protocol === 'HTTP') return { ...base, filterChains: [{ filters }] };
  const chains: FilterChain[] = listeners.map((l) => ({
    name: l.listener.name,
    ...(l.listener.hostname !== undefined ? { filterChainMatch: { serverNames: [l.listener.hostname] } } : {}),
    filters,
    transportSocket: terminatingTls(l.certificates),
  }));
  // Envoy and Istio answer a client without SNI (or with a name no chain serves) with the first
  // listener's certificate; a listener without hostname already takes those clients.
  if (listeners.some((l) => l.listener.hostname === undefined)) return { ...base, filterChains: chains };
  const { filterChainMatch: _sni, ...first } = chains[0]!;
  return { ...base, filterChains: chains, defaultFilterChain: { ...first, name: 'default' } };
}

/** The snapshot of a gateway node: the listeners of the Gateway named like the node's service in its namespace. */
export function translateGateway(input: TranslatorInput, proxy: ProxyNode): Snapshot {
  const view = meshView(input);
  const warnings = new Set<string>(view.warnings);
  const clusters = new Map(view.clusters);
  if (input.security) for (const [name, c] of clusters) clusters.set(name, secureOutboundCluster(input, input.security.trustDomain, c));
  const model = gatewayWorld(input).gateways.get(gatewayKey(proxy.namespace, proxy.service));
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  const secrets = new Map<string, SdsSecret>();
  if (!model) warnings.add(`no Gateway ${proxy.namespace}/${proxy.service}: this gateway has no listeners until one is applied`);
  else if (model.notAccepted) warnings.add(`Gateway ${proxy.namespace}/${proxy.service} is not accepted: ${model.notAccepted.message}`);
  else {
    const hcm = { ...hcmTelemetry(input.meshConfig, input.defaultCollector), ...hcmPathNormalization(input.meshConfig) };
    const byPort = new Map<number, ListenerModel[]>();
    for (const l of model.listeners) {
      if (!l.served) {
        warnings.add(`Gateway ${proxy.namespace}/${proxy.service} listener ${l.listener.name}: not served (see its status conditions)`);
        continue;
      }
      let list = byPort.get(l.listener.port);
      if (!list) byPort.set(l.listener.port, (list = []));
      list.push(l);
      for (const s of l.certificates) secrets.set(gatewaySecretName(s.metadata.namespace, s.metadata.name), sdsSecret(s));
    }
    for (const [port, ls] of [...byPort].sort(([a], [b]) => a - b)) {
      listeners.push(portListener(port, ls, proxy.address, hcm));
      routes.push(portRouteTable(port, ls, input, warnings));
    }
  }
  const snapshot = assembleSnapshot(listeners, routes, [...clusters.values()], view.endpoints, warnings);
  return secrets.size > 0 ? { ...snapshot, gatewaySecrets: new Map([...secrets].sort(([a], [b]) => (a < b ? -1 : 1))) } : snapshot;
}
