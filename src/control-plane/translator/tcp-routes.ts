// The backends of a TCP Service port: its own cluster, or the weighted backends of the
// TCPRoute attached to it (GAMMA attachment as for HTTPRoutes: consumer routes first).
import type { Service, ServicePort, TCPRoute } from '../../api/resource.js';
import { outboundClusterName, serviceHost } from '../../xds/names.js';
import { findPort, isHttpProtocol } from './selection.js';
import type { ServiceLookup } from './service-routes.js';

const attaches = (r: TCPRoute, service: Service, port: ServicePort): boolean =>
  r.spec.parentRefs.some(
    (p) =>
      p.kind === 'Service' &&
      p.name === service.metadata.name &&
      (p.namespace ?? r.metadata.namespace) === service.metadata.namespace &&
      (p.port === undefined || p.port === port.port),
  );

/**
 * Weighted clusters for connections to `service:port` from `callerNamespace`. With several
 * TCPRoutes attached, the oldest (then by name) applies and the others get a warning; backends
 * that do not exist are left out with a warning; with none left, the Service's own cluster.
 */
export function tcpBackends(
  service: Service,
  port: ServicePort,
  routes: readonly TCPRoute[],
  callerNamespace: string,
  lookup: ServiceLookup,
): { clusters: { name: string; weight: number }[]; warnings: string[] } {
  const own = [{ name: outboundClusterName(service.metadata.name, service.metadata.namespace, port.port), weight: 1 }];
  const all = routes.filter((r) => attaches(r, service, port));
  const consumer = callerNamespace === service.metadata.namespace ? [] : all.filter((r) => r.metadata.namespace === callerNamespace);
  const applicable = (consumer.length > 0 ? consumer : all.filter((r) => r.metadata.namespace === service.metadata.namespace)).sort(
    (a, b) => (a.metadata.creationTimestamp ?? '~').localeCompare(b.metadata.creationTimestamp ?? '~') || a.metadata.name.localeCompare(b.metadata.name),
  );
  if (applicable.length === 0) return { clusters: own, warnings: [] };
  const [route, ...ignored] = applicable;
  const warnings = ignored.map(
    (r) =>
      `TCPRoute ${r.metadata.namespace}/${r.metadata.name}: ${serviceHost(service.metadata.name, service.metadata.namespace)}:${port.port} already has TCPRoute ${route!.metadata.name}; this one is ignored`,
  );
  const weights = new Map<string, number>();
  route!.spec.rules[0]!.backendRefs.forEach((ref, i) => {
    const ns = ref.namespace ?? route!.metadata.namespace;
    const backend = lookup(ns, ref.name);
    const where = `TCPRoute ${route!.metadata.namespace}/${route!.metadata.name} rules[0].backendRefs[${i}]`;
    if (!backend) return void warnings.push(`${where}: Service ${ns}/${ref.name} does not exist; that backend gets no connections`);
    if (!findPort(backend, ref.port)) return void warnings.push(`${where}: Service ${serviceHost(ref.name, ns)} has no port ${ref.port}; that backend gets no connections`);
    const name = outboundClusterName(ref.name, ns, ref.port);
    if (ref.weight > 0) weights.set(name, (weights.get(name) ?? 0) + ref.weight);
  });
  if (weights.size === 0) {
    warnings.push(`TCPRoute ${route!.metadata.namespace}/${route!.metadata.name}: no backend that exists with a weight above 0; connections go to the Service's own endpoints`);
    return { clusters: own, warnings };
  }
  return { clusters: [...weights].map(([name, weight]) => ({ name, weight })), warnings };
}

/**
 * TCPRoutes whose parent is an HTTP port (http, http2, grpc), or a Service with no tcp port:
 * such a route attaches to nothing (an HTTP port's connections are routed by its HTTPRoutes),
 * which the operator is told instead of finding out from the traffic.
 */
export function tcpRouteAttachmentWarnings(routes: readonly TCPRoute[], lookup: ServiceLookup): string[] {
  const warnings: string[] = [];
  for (const r of routes) {
    r.spec.parentRefs.forEach((p, i) => {
      const ns = p.namespace ?? r.metadata.namespace;
      const service = p.kind === 'Service' ? lookup(ns, p.name) : undefined;
      if (!service) return;
      const where = `TCPRoute ${r.metadata.namespace}/${r.metadata.name} parentRefs[${i}]`;
      const host = serviceHost(service.metadata.name, ns);
      if (p.port !== undefined) {
        const port = findPort(service, p.port);
        if (port && isHttpProtocol(port.appProtocol))
          warnings.push(`${where}: port ${p.port} of ${host} is ${port.appProtocol}, not tcp; the route is ignored there (route HTTP with an HTTPRoute or GRPCRoute)`);
      } else if (service.spec.ports.every((x) => isHttpProtocol(x.appProtocol))) {
        warnings.push(`${where}: ${host} has no tcp port (${service.spec.ports.map((x) => `${x.port} ${x.appProtocol}`).join(', ')}); the route is ignored`);
      }
    });
  }
  return warnings;
}
