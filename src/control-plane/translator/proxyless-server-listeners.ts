// The Listener an xDS-enabled gRPC server (gRPC A36) asks for by its bootstrap's server listener
// template: its listening address, one filter chain whose HttpConnectionManager routes every call
// to the server itself (an inline route with non_forwarding_action), the sidecar's RBAC filters
// before the router, and mTLS from the certificate provider instance (A29) when the mesh has a CA.
import { isIP } from 'node:net';
import { workloadLabels } from '../registry/workload.js';
import type { FilterChain, Listener, NetworkFilter, RouteConfiguration } from '../../xds/envoy-types.js';
import { inboundRouteName } from '../../xds/names.js';
import type { InboundPort } from '../../xds/node-metadata.js';
import { GRPC_SERVER_LISTENER_TEMPLATE, serverListenerAddress } from '../../xds/proxyless-grpc.js';
import { DEFAULT_TRUST_DOMAIN } from '../../xds/spiffe.js';
import { FILTER_HTTP_CONNECTION_MANAGER, HTTP_CONNECTION_MANAGER, typeUrl } from '../../xds/type-urls.js';
import { applicablePolicies, httpRbacFilters, rbacRules, type RbacRules } from './authorization.js';
import { ROUTER_FILTER } from './listeners.js';
import { meshView } from './mesh-view.js';
import { GRPC_RBAC_LIMITS, grpcRbacWarnings } from './proxyless-rbac.js';
import { applicableRequestAuthentications } from './request-authentication.js';
import { proxylessServerTls } from './proxyless-server-tls.js';
import { inboundMode } from './security.js';
import { admits, inboundFor, servedBy } from './selection.js';
import type { ProxyNode, TranslatorInput } from './types.js';

/** Addresses that reach a server from other workloads whatever the node's own address. */
const WILDCARD_IPS: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/**
 * The server Listener `name` for a proxyless gRPC node, or undefined (with a warning) when the
 * name is not a server listener name of a valid IP:port, or the port is not one of the node's
 * inbound ports: a server serves only where its node declared it does.
 */
export function grpcServerListener(input: TranslatorInput, node: ProxyNode, name: string, warnings: Set<string>): Listener | undefined {
  const where = `server listener ${name}`;
  const address = serverListenerAddress(name);
  if (address === undefined) {
    warnings.add(`${where}: not a server listener name (expected ${GRPC_SERVER_LISTENER_TEMPLATE}, %s an IP:port)`);
    return undefined;
  }
  const listening = parseListeningAddress(address);
  if (typeof listening === 'string') {
    warnings.add(`${where}: ${listening}`);
    return undefined;
  }
  const entry = node.inbound.find((e) => e.port === listening.port);
  if (!entry) {
    warnings.add(`${where}: port ${listening.port} is not an inbound port of this node (declared: ${node.inbound.map((e) => e.port).join(', ') || 'none'})`);
    return undefined;
  }
  if (!WILDCARD_IPS.has(listening.ip) && listening.ip !== node.address) {
    warnings.add(`${where}: the server listens on ${listening.ip} only, while other workloads dial it at ${node.address}:${listening.port}`);
  }

  const self = { namespace: node.namespace, service: node.service, labels: workloadLabels(node) };
  const selecting = meshView(input).services.filter((s) => admits(s, self));
  const served = servedBy(selecting, node.inbound, entry);
  for (const s of served) {
    for (const p of s.spec.ports.filter((p) => p.appProtocol === 'http' && inboundFor(node.inbound, p.targetPort) === entry)) {
      warnings.add(
        `${where}: Service ${s.metadata.namespace}/${s.metadata.name} port ${p.port} declares appProtocol http (HTTP/1.1), which a gRPC server does not speak; declare grpc`,
      );
    }
  }
  const policies = applicablePolicies(input.authorizationPolicies ?? [], node.namespace, served);
  grpcRbacWarnings(policies, where, warnings);
  for (const ra of applicableRequestAuthentications(input.requestAuthentications ?? [], node.namespace, served)) {
    warnings.add(
      `${where}: RequestAuthentication ${ra.metadata.namespace}/${ra.metadata.name} is not enforced: a proxyless gRPC server verifies no JWT (tokens reach the app unchecked)`,
    );
  }
  const rules = rbacRules(policies, input.meshConfig, input.security?.trustDomain ?? DEFAULT_TRUST_DOMAIN, false, GRPC_RBAC_LIMITS);

  const chain: FilterChain = { filters: [serverHcm(entry, rules)] };
  if (input.security && inboundMode(input.meshConfig.mtls.mode, selecting, warnings) === 'PERMISSIVE') {
    // A36: a gRPC server matches filter chains on raw_buffer only; it cannot tell TLS from plaintext.
    warnings.add(`${where}: mTLS mode PERMISSIVE is served as STRICT: a gRPC server cannot take TLS and plaintext on one port, so callers without a mesh certificate are refused`);
  }
  return {
    name,
    address: { socketAddress: { address: listening.ip, portValue: listening.port } },
    trafficDirection: 'INBOUND',
    filterChains: [input.security ? { ...chain, transportSocket: proxylessServerTls() } : chain],
  };
}

/**
 * The IP and port of `IP:PORT` or `[IPv6]:PORT`, the IP as written: gRPC compares the Listener's
 * socket address with the address it binds as strings. A message when it is not one.
 */
export function parseListeningAddress(address: string): { ip: string; port: number } | string {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  const ip = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (ip === undefined || isIP(ip) !== (m?.[1] !== undefined ? 6 : 4) || port < 1 || port > 65535) {
    return `listening address ${JSON.stringify(address)} is not IPv4:PORT or [IPv6]:PORT`;
  }
  return { ip, port };
}

/** Every call is served here (A36: a server's routes take non_forwarding_action); the route names nothing to check. */
function serverRoutes(entry: InboundPort): RouteConfiguration {
  return { name: inboundRouteName(entry.port), virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'serve', match: { prefix: '' }, nonForwardingAction: {} }] }] };
}

/** The HttpConnectionManager: RBAC filters (DENY, then ALLOW), each named for its action (gRPC NACKs duplicate names), then the router. */
function serverHcm(entry: InboundPort, rules: readonly RbacRules[]): NetworkFilter {
  const rbac = httpRbacFilters(rules).map((f, i) => ({ ...f, name: `${f.name}.${rules[i]!.action.toLowerCase()}` }));
  return {
    name: FILTER_HTTP_CONNECTION_MANAGER,
    typedConfig: {
      '@type': typeUrl(HTTP_CONNECTION_MANAGER),
      statPrefix: `inbound_${entry.port}`,
      routeConfig: serverRoutes(entry),
      httpFilters: [...rbac, ROUTER_FILTER],
    },
  };
}
