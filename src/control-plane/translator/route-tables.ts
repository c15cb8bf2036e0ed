// Route tables (RDS): the inbound table of a listener, the table of one upstream Service
// port, and the HTTP proxy table with one virtual host per HTTP Service port.
import type { Service, ServicePort } from '../../api/resource.js';
import type { Route, RouteConfiguration, VirtualHost } from '../../xds/envoy-types.js';
import { HTTP_PROXY_ROUTE, inboundClusterName, inboundRouteName, outboundRouteName, serviceDomains, serviceHost } from '../../xds/names.js';
import type { InboundPort } from '../../xds/node-metadata.js';
import { NO_TIMEOUT } from './service-routes.js';

/** The table of an inbound HTTP listener: every request to the local application port. */
export function inboundRouteTable(entry: InboundPort): RouteConfiguration {
  const name = inboundRouteName(entry.port);
  return {
    name,
    virtualHosts: [{ name, domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: inboundClusterName(entry.appPort), timeout: NO_TIMEOUT } }] }],
  };
}

const vhostName = (service: Service, port: ServicePort): string => `${serviceHost(service.metadata.name, service.metadata.namespace)}:${port.port}`;

/** The table of an explicit-mode upstream listener: one virtual host for every host name. */
export function upstreamRouteTable(service: Service, port: ServicePort, routes: Route[], host: HostSettings = {}): RouteConfiguration {
  const { name, namespace } = service.metadata;
  return { name: outboundRouteName(name, namespace, port.port), virtualHosts: [{ name: vhostName(service, port), domains: ['*'], routes, ...host }] };
}

/** Virtual-host settings that come from the Service's TrafficPolicy. */
export type HostSettings = Pick<VirtualHost, 'retryPolicy' | 'typedPerFilterConfig'>;

/** A Service port reachable through the HTTP proxy listener, with its routes. */
export interface ProxiedServicePort {
  service: Service;
  port: ServicePort;
  routes: Route[];
  host?: HostSettings;
}

/**
 * The HTTP proxy table: one virtual host per HTTP Service port, named by serviceDomains as
 * seen from `callerNamespace`. A domain already taken by an earlier virtual host is left out
 * with a warning (Envoy refuses a table with a domain twice).
 */
export function httpProxyRouteTable(ports: readonly ProxiedServicePort[], callerNamespace: string): { table: RouteConfiguration; warnings: string[] } {
  const taken = new Map<string, string>();
  const warnings: string[] = [];
  const virtualHosts: VirtualHost[] = [];
  for (const { service, port, routes, host } of ports) {
    const name = vhostName(service, port);
    const domains: string[] = [];
    for (const d of serviceDomains(service.metadata.name, service.metadata.namespace, port.port, callerNamespace)) {
      const owner = taken.get(d);
      if (owner === undefined) {
        taken.set(d, name);
        domains.push(d);
      } else if (owner !== name) warnings.push(`host ${d} of ${name} is already a host of ${owner}; left out of the HTTP proxy routes`);
    }
    if (domains.length > 0) virtualHosts.push({ name, domains, routes, ...host });
  }
  return { table: { name: HTTP_PROXY_ROUTE, virtualHosts }, warnings };
}
