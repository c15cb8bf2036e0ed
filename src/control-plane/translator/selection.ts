// Which workloads a Service selects and which of a workload's inbound ports serves a
// Service port: the rules endpoints and inbound listeners agree on.
import type { AppProtocol, Service, ServicePort } from '../../api/resource.js';
import type { InboundPort } from '../../xds/node-metadata.js';

/** `ns/name`, the key of a Service in lookups. */
export const serviceKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** HTTP-family protocols get an HTTP connection manager and route tables; `tcp` gets tcp_proxy. */
export const isHttpProtocol = (p: AppProtocol): boolean => p !== 'tcp';

/**
 * True if a workload with these labels in `namespace` belongs to the Service. An empty
 * selector selects nothing (as in Kubernetes, where such a Service's endpoints are managed by hand).
 */
export function selects(service: Service, namespace: string, labels: Readonly<Record<string, string>>): boolean {
  if (service.metadata.namespace !== namespace) return false;
  const entries = Object.entries(service.spec.selector);
  return entries.length > 0 && entries.every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v);
}

/**
 * The inbound entry that serves a Service port's targetPort on a workload: the one whose
 * appPort equals targetPort; failing that, the only entry of a single-port workload (on plain
 * hosts the app's port is often chosen at start, e.g. `trellis run --port 3000`, while the
 * Service says 8080).
 */
export function inboundFor(inbound: readonly InboundPort[], targetPort: number): InboundPort | undefined {
  const exact = inbound.find((i) => i.appPort === targetPort);
  if (exact) return exact;
  return inbound.length === 1 ? inbound[0] : undefined;
}

/** The port of a Service with this number, if any. */
export function findPort(service: Service, port: number): ServicePort | undefined {
  return service.spec.ports.find((p) => p.port === port);
}
