// Names of the xDS resources Trellis generates. The translator builds them and the proxy
// and operators read them, so they are defined once here.

/** Fully qualified host of a Service: `name.namespace`. */
export const serviceHost = (service: string, namespace: string): string => `${service}.${namespace}`;

/** The EDS cluster of one port of a Service: `outbound|8080||payments.default`. */
export const outboundClusterName = (service: string, namespace: string, port: number): string => `outbound|${port}||${serviceHost(service, namespace)}`;

/** The static cluster to the local application port: `inbound|3000`. */
export const inboundClusterName = (appPort: number): string => `inbound|${appPort}`;

/** The inbound listener in front of one application port: `inbound|15006`. */
export const inboundListenerName = (listenPort: number): string => `inbound|${listenPort}`;

/** The explicit-mode listener for one upstream: `outbound|127.0.0.1:9001`. */
export const upstreamListenerName = (localPort: number): string => `outbound|127.0.0.1:${localPort}`;

/** The route table of one Service port, used by its upstream listeners: `outbound|payments.default:8080`. */
export const outboundRouteName = (service: string, namespace: string, port: number): string => `outbound|${serviceHost(service, namespace)}:${port}`;

export const HTTP_PROXY_LISTENER = 'outbound|http-proxy';
/** The route table of the HTTP proxy listener: one virtual host per HTTP Service port. */
export const HTTP_PROXY_ROUTE = 'outbound|http-proxy';

/** The inbound route table of one listener: `inbound|15006`. */
export const inboundRouteName = (listenPort: number): string => `inbound|${listenPort}`;

/**
 * The host names by which a Service port is reached through the HTTP proxy listener:
 * `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`, `name.mesh` (the latter
 * forms only make sense for the default namespace when short), each as `host:port`, and
 * also without the port when the port is 80.
 */
export function serviceDomains(service: string, namespace: string, port: number, callerNamespace: string): string[] {
  const hosts = [`${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
  if (namespace === callerNamespace) hosts.unshift(service);
  if (namespace === 'default') hosts.push(`${service}.mesh`);
  else hosts.push(`${service}.${namespace}.mesh`);
  const domains: string[] = [];
  for (const h of hosts) {
    domains.push(`${h}:${port}`);
    if (port === 80) domains.push(h);
  }
  return domains;
}

/** Transparent mode: the one listener that takes every captured outbound connection (routed by original destination). */
export const VIRTUAL_OUTBOUND_LISTENER = 'virtualOutbound';
/** Transparent mode: the one listener that takes every captured inbound connection. */
export const VIRTUAL_INBOUND_LISTENER = 'virtualInbound';
/** ORIGINAL_DST cluster: a connection goes on to where it was going (outbound policy PassThrough, inbound ports no Service declares). */
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
/**
 * ORIGINAL_DST cluster with mTLS to the workloads of one identity: a captured caller's
 * connections to a port their Service does not declare, on a workload whose inbound is STRICT.
 */
export function undeclaredPortsClusterName(service: string, namespace: string): string {
  return `${PASSTHROUGH_CLUSTER}|${service}.${namespace}`;
}
/**
 * ORIGINAL_DST cluster of one Service port (with mTLS to its workloads' identities): a captured
 * caller's connections addressed to one endpoint of the Service, which go to that endpoint.
 */
export function endpointClusterName(service: string, namespace: string, port: number): string {
  return `${PASSTHROUGH_CLUSTER}|${port}|${serviceHost(service, namespace)}`;
}
/** The cluster of one port of an external host (an ExternalService): `external|443||api.example.com`. */
export const externalClusterName = (host: string, port: number): string => `external|${port}||${host}`;
/** The route table of one HTTP port of an external host (transparent mode): `external|api.example.com:80`. */
export const externalRouteName = (host: string, port: number): string => `external|${host}:${port}`;
/** The key of an external host's virtual IP; Service names have no dots, so it never meets a Service's `ns/name`. */
export const externalVipKey = (host: string): string => `external/${host}`;

/** A cluster without endpoints: outbound policy Refuse; the proxy refuses what reaches it and counts it. */
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';

/**
 * The DNS names of a Service that a proxy answers with its virtual IP: `name.ns.svc`,
 * `name.ns.svc.cluster.local`, `name.ns.mesh`, and `name.mesh` for the default namespace.
 */
export function serviceDnsNames(service: string, namespace: string): string[] {
  const names = [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, `${service}.${namespace}.mesh`];
  if (namespace === 'default') names.push(`${service}.mesh`);
  return names;
}

/** The SDS secrets that may carry a private key: a gateway's listener certificates, `gateway~NAMESPACE~NAME`, sent to that gateway only. */
export const GATEWAY_SECRET_PREFIX = 'gateway~';
export const gatewaySecretName = (namespace: string, name: string): string => `${GATEWAY_SECRET_PREFIX}${namespace}~${name}`;

/** The listener and route table of one gateway port: `gateway|8443`. */
export const gatewayPortName = (port: number): string => `gateway|${port}`;
