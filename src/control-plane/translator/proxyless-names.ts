// The Service port a proxyless gRPC client means by a listener name: the target of its
// `xds:///<name>` channel, `<service>[.<namespace>][:<port>]` or one of the mesh's DNS names.
import type { Service, ServicePort } from '../../api/resource.js';
import { serviceHost } from '../../xds/names.js';
import type { ServiceLookup } from './service-routes.js';
import { findPort, isHttpProtocol } from './selection.js';

/** DNS suffixes a target may carry after `<service>.<namespace>` (see serviceDnsNames). */
const NAMESPACED_SUFFIXES = ['.svc.cluster.local', '.svc', '.mesh'];

/**
 * The Service port named by a client listener name, or why it names none. The namespace
 * defaults to the caller's (`<service>.mesh`: `default`); the port may be left out when the
 * Service has exactly one.
 */
export function resolveClientTarget(name: string, callerNamespace: string, lookup: ServiceLookup): { service: Service; port: ServicePort } | string {
  const m = /^([^:]+)(?::(\d+))?$/.exec(name);
  if (!m) return `listener ${JSON.stringify(name)} is not a gRPC target <service>[.<namespace>][:<port>]`;
  let host = m[1]!;
  let namespace: string | undefined;
  const suffix = NAMESPACED_SUFFIXES.find((s) => host.endsWith(s));
  if (suffix !== undefined) host = host.slice(0, -suffix.length);
  const parts = host.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) return `listener ${JSON.stringify(name)} is not a gRPC target <service>[.<namespace>][:<port>]`;
  if (parts.length === 2) namespace = parts[1];
  else if (suffix === '.mesh') namespace = 'default';
  else if (suffix !== undefined) return `listener ${JSON.stringify(name)} names no namespace before ${suffix}`;
  namespace ??= callerNamespace;
  const service = lookup(namespace, parts[0]!);
  if (!service) return `listener ${JSON.stringify(name)}: Service ${namespace}/${parts[0]} does not exist`;
  const ports = service.spec.ports;
  const portNumber = m[2] === undefined ? undefined : Number(m[2]);
  const port = portNumber === undefined ? (ports.length === 1 ? ports[0] : undefined) : findPort(service, portNumber);
  const qualified = serviceHost(service.metadata.name, namespace);
  if (!port) {
    const have = ports.map((p) => p.port).join(', ') || 'none';
    return portNumber === undefined
      ? `listener ${JSON.stringify(name)}: Service ${qualified} has ${ports.length} ports (${have}); name one as ${qualified}:<port>`
      : `listener ${JSON.stringify(name)}: Service ${qualified} has no port ${portNumber} (it has ${have})`;
  }
  if (!isHttpProtocol(port.appProtocol)) return `listener ${JSON.stringify(name)}: port ${port.port} of Service ${qualified} is tcp; a gRPC channel needs an HTTP/2 or gRPC port`;
  return { service, port };
}
