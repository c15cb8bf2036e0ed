// The translator: a pure function from the mesh (Services, HTTPRoutes, MeshConfig,
// workloads) and one proxy's node to that proxy's snapshot of listeners, routes, clusters
// and endpoints.
import type { Service, ServicePort } from '../../api/resource.js';
import type { Listener, RouteConfiguration, VirtualHost } from '../../xds/envoy-types.js';
import { HTTP_PROXY_LISTENER, HTTP_PROXY_ROUTE, inboundListenerName, inboundRouteName, serviceHost, upstreamListenerName } from '../../xds/names.js';
import type { InboundPort } from '../../xds/node-metadata.js';
import { workloadLabels } from '../registry/workload.js';
import { appHttpVersion, blackholeCluster, inboundCluster, passthroughCluster } from './clusters.js';
import { inboundCaptureListener, outboundCaptureListener } from './capture-listeners.js';
import { httpListener, tcpListener, weightedTcpListener } from './listeners.js';
import { meshView, type MeshView } from './mesh-view.js';
import { hcmTelemetry } from './telemetry.js';
import { hcmPathNormalization } from './path-normalization.js';
import { inboundRouteTable } from './route-tables.js';
import { admits, findPort, inboundFor, isHttpProtocol, refusedIdentity, servedBy } from './selection.js';
import type { ProxyNode, Snapshot, TranslatorInput } from './types.js';
import { inboundMode, secureInboundListener, secureOutboundCluster } from './security.js';
import { applicablePolicies, rbacRules, withRbac } from './authorization.js';
import { applicableRequestAuthentications, issuersOf, jwtAuthnFilter, withJwt } from './request-authentication.js';
import { assembleSnapshot } from './snapshot-assembly.js';
import { translateProxyless } from './proxyless-client.js';
import { translateGateway } from './gateway-listeners.js';
import { strictCapturedPeers } from './undeclared-ports.js';
import { externalView } from './external-services.js';
import { DETECTED_HTTP } from './capture-listeners.js';

/**
 * The snapshot of one proxy (a proxyless gRPC node's: see proxyless-client.ts). Pure: the same input and proxy give an equal snapshot with the
 * same versions. Mesh-wide parts are computed once per input object and shared between
 * the snapshots of all proxies (see meshView).
 */
export function translate(input: TranslatorInput, proxy: ProxyNode): Snapshot {
  if (proxy.kind === 'grpc') return translateProxyless(input, proxy);
  if (proxy.kind === 'gateway') return translateGateway(input, proxy);
  const view = meshView(input);
  const warnings = new Set<string>(view.warnings);
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  const clusters = new Map(view.clusters);
  const security = input.security;
  if (security) for (const [name, c] of clusters) clusters.set(name, secureOutboundCluster(input, security.trustDomain, c));
  // External hosts: their own TLS (origination) or none, never the mesh's mTLS.
  const external = externalView(input);
  for (const c of external.clusters) clusters.set(c.name, c);
  external.warnings.forEach((w) => warnings.add(w));

  // Every HCM of the snapshot: the mesh's telemetry and path normalization.
  const hcm = { ...hcmTelemetry(input.meshConfig, input.defaultCollector), ...hcmPathNormalization(input.meshConfig) };

  const self = { namespace: proxy.namespace, service: proxy.service, labels: workloadLabels(proxy) };
  const selecting = view.services.filter((s) => admits(s, self));
  // A Service whose selector matches but which does not admit this identity: said on this proxy.
  for (const s of view.services) {
    const refused = refusedIdentity(s, self);
    if (refused !== undefined) warnings.add(refused);
  }
  const captured: { entry: InboundPort; protocol: 'http' | 'tcp' }[] = [];
  const mode = inboundMode(input.meshConfig.mtls.mode, selecting, warnings);
  const secure = (l: Listener): Listener => (security ? secureInboundListener(l, mode) : l);
  const requestAuthns = (entry: InboundPort) => applicableRequestAuthentications(input.requestAuthentications ?? [], proxy.namespace, servedBy(selecting, proxy.inbound, entry));
  const authz = (entry: InboundPort, tcp: boolean) =>
    rbacRules(
      applicablePolicies(input.authorizationPolicies ?? [], proxy.namespace, servedBy(selecting, proxy.inbound, entry)),
      input.meshConfig,
      security?.trustDomain ?? 'trellis.local',
      tcp,
      undefined,
      tcp ? [] : issuersOf(requestAuthns(entry)),
    );
  const jwt = (entry: InboundPort) => jwtAuthnFilter(requestAuthns(entry), input.jwks, warnings);
  for (const entry of proxy.inbound) {
    const c = inboundCluster(entry.appPort, proxy.service, proxy.namespace, input.meshConfig, inboundHttpVersion(selecting, proxy.inbound, entry, warnings));
    clusters.set(c.name, c);
    // Transparent mode: one capture listener takes every inbound port (below).
    if (proxy.capture) {
      captured.push({ entry, protocol: inboundProtocol(selecting, proxy.inbound, entry, warnings) });
      continue;
    }
    const place = { name: inboundListenerName(entry.port), address: proxy.address, port: entry.port, direction: 'INBOUND' as const, statPrefix: `inbound_${entry.port}` };
    if (inboundProtocol(selecting, proxy.inbound, entry, warnings) === 'tcp') {
      listeners.push(secure(withRbac(tcpListener(place, c.name), authz(entry, true))));
    } else {
      listeners.push(secure(withJwt(withRbac(httpListener(place, inboundRouteName(entry.port), hcm), authz(entry, false)), jwt(entry))));
      routes.push(inboundRouteTable(entry));
    }
  }

  for (const u of proxy.upstreams) {
    const target = upstreamTarget(view, u.namespace, u.service, u.port);
    if (typeof target === 'string') {
      warnings.add(`upstream ${serviceHost(u.service, u.namespace)}:${u.port} on local port ${u.localPort}: ${target}; no listener for it`);
      continue;
    }
    const { service, port } = target;
    const host = serviceHost(service.metadata.name, service.metadata.namespace);
    const place = { name: upstreamListenerName(u.localPort), address: '127.0.0.1', port: u.localPort, direction: 'OUTBOUND' as const, statPrefix: `outbound_${host}_${port.port}` };
    if (isHttpProtocol(port.appProtocol)) {
      const { table, warnings: w } = view.upstreamTable(service, port, proxy.namespace);
      listeners.push(httpListener(place, table.name, hcm));
      routes.push(table);
      w.forEach((x) => warnings.add(x));
    } else {
      const { clusters: split, warnings: w } = view.tcpClusters(service, port, proxy.namespace);
      listeners.push(weightedTcpListener(place, split));
      w.forEach((x) => warnings.add(x));
    }
  }

  if (proxy.httpProxyPort !== undefined) {
    const { table: meshTable, warnings: w } = view.httpProxyTable(proxy.namespace);
    const table = withExternalHosts(meshTable, external.virtualHosts, warnings);
    listeners.push(
      httpListener({ name: HTTP_PROXY_LISTENER, address: '127.0.0.1', port: proxy.httpProxyPort, direction: 'OUTBOUND', statPrefix: 'outbound_http_proxy' }, HTTP_PROXY_ROUTE, hcm),
    );
    routes.push(table);
    w.forEach((x) => warnings.add(x));
  }

  if (proxy.capture) {
    const undeclaredAuthz = rbacRules(
      applicablePolicies(input.authorizationPolicies ?? [], proxy.namespace, selecting),
      input.meshConfig,
      security?.trustDomain ?? 'trellis.local',
      true,
    );
    const inbound = inboundCaptureListener(captured, proxy.capture, input.meshConfig, { hcm, mtls: security ? mode : undefined, authz, jwt, undeclaredAuthz });
    const peers = strictCapturedPeers(input);
    for (const p of peers) clusters.set(p.cluster.name, p.cluster);
    for (const part of [
      inbound,
      outboundCaptureListener(view, input.virtualIps, proxy.capture, proxy.namespace, input.meshConfig, hcm, peers, external.chains(hcm, DETECTED_HTTP)),
    ]) {
      listeners.push(...part.listeners);
      routes.push(...part.routes);
      for (const c of part.clusters) clusters.set(c.name, security ? secureOutboundCluster(input, security.trustDomain, c) : c);
      part.warnings.forEach((w) => warnings.add(w));
    }
    routes.push(...external.routes);
    for (const c of [passthroughCluster(input.meshConfig), blackholeCluster(input.meshConfig)]) clusters.set(c.name, c);
  }

  return assembleSnapshot(listeners, routes, [...clusters.values()], view.endpoints, warnings);
}

/**
 * `tcp` if a Service selecting the proxy declares the port this entry serves as tcp, else
 * `http` (also when no Service selects it). When Services disagree, tcp wins: forwarding
 * HTTP as bytes still works, parsing bytes as HTTP does not.
 */
function inboundProtocol(selecting: readonly Service[], inbound: readonly InboundPort[], entry: InboundPort, warnings: Set<string>): 'http' | 'tcp' {
  const ports = selecting.flatMap((s) => s.spec.ports.filter((p) => inboundFor(inbound, p.targetPort) === entry).map((p) => ({ s, p })));
  const tcp = ports.filter(({ p }) => !isHttpProtocol(p.appProtocol));
  if (tcp.length === 0) return 'http';
  if (tcp.length < ports.length) {
    const names = ports.map(({ s, p }) => `${serviceHost(s.metadata.name, s.metadata.namespace)}:${p.port} (${p.appProtocol})`).join(', ');
    warnings.add(`inbound port ${entry.port} (app port ${entry.appPort}) is declared with different protocols by ${names}; it is served as tcp`);
  }
  return 'tcp';
}

/**
 * The HTTP version the app speaks on this entry's port, as the Services selecting the proxy
 * declare it (see appHttpVersion); their disagreeing is said in a warning.
 */
function inboundHttpVersion(selecting: readonly Service[], inbound: readonly InboundPort[], entry: InboundPort, warnings: Set<string>) {
  const ports = selecting.flatMap((s) => s.spec.ports.filter((p) => inboundFor(inbound, p.targetPort) === entry).map((p) => ({ s, p })));
  const http = ports.filter(({ p }) => isHttpProtocol(p.appProtocol));
  const version = appHttpVersion(http.map(({ p }) => p.appProtocol));
  if (version === undefined && http.length > 1) {
    const names = http.map(({ s, p }) => `${serviceHost(s.metadata.name, s.metadata.namespace)}:${p.port} (${p.appProtocol})`).join(', ');
    warnings.add(`inbound port ${entry.port} (app port ${entry.appPort}) is declared as both HTTP/1.1 and HTTP/2 by ${names}; requests reach the app in the caller's protocol`);
  }
  return version;
}

/** The HTTP proxy table with the virtual hosts of external `http` ports; a domain a mesh Service already has stays the Service's, with a warning. */
function withExternalHosts(table: RouteConfiguration, hosts: readonly VirtualHost[], warnings: Set<string>): RouteConfiguration {
  if (hosts.length === 0) return table;
  const taken = new Set(table.virtualHosts.flatMap((v) => v.domains));
  const added: VirtualHost[] = [];
  for (const h of hosts) {
    const domains = h.domains.filter((d) => !taken.has(d));
    if (domains.length < h.domains.length) warnings.add(`external host ${h.name} is also a mesh Service's host in the HTTP proxy routes; the Service keeps it`);
    if (domains.length > 0) added.push({ ...h, domains });
  }
  return { ...table, virtualHosts: [...table.virtualHosts, ...added] };
}

function upstreamTarget(view: MeshView, namespace: string, name: string, portNumber: number): { service: Service; port: ServicePort } | string {
  const service = view.lookup(namespace, name);
  if (!service) return `Service ${namespace}/${name} does not exist`;
  const port = findPort(service, portNumber);
  if (!port) return `Service ${namespace}/${name} has no port ${portNumber} (it has ${service.spec.ports.map((p) => p.port).join(', ') || 'none'})`;
  return { service, port };
}
