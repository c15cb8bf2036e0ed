// Which workloads a Service selects and admits, and which of a workload's inbound ports serves
// a Service port: the rules endpoints, outbound identities and inbound listeners agree on.
import { SERVICE_ACCOUNTS_ANNOTATION, serviceAccountsOf } from '../../api/service-accounts.js';
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

/** Per Service object (they are immutable, replaced on change). */
const admitted = new WeakMap<Service, ReadonlySet<string>>();

/**
 * The identities (service accounts, the service part of a SPIFFE ID) a Service admits as its
 * endpoints: its own name, its selector's `app` value, and those its
 * `trellis.io/service-accounts` annotation lists.
 */
export function admittedIdentities(service: Service): ReadonlySet<string> {
  const hit = admitted.get(service);
  if (hit) return hit;
  const ids = new Set([service.metadata.name, ...serviceAccountsOf(service.metadata.annotations)]);
  const app = service.spec.selector.app;
  if (app !== undefined) ids.add(app);
  admitted.set(service, ids);
  return ids;
}

/** A workload as selection sees it: where it runs, its identity and its labels. */
export interface SelectableWorkload {
  namespace: string;
  /** Its identity (the service its join token is for). */
  service: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * True if the Service selects the workload and admits its identity. Labels alone never make a
 * workload an endpoint: callers trust the identity of every endpoint, so a workload of another
 * identity that claims the Service's labels is left out (see `refusedIdentity`).
 */
export function admits(service: Service, w: SelectableWorkload): boolean {
  return selects(service, w.namespace, w.labels) && admittedIdentities(service).has(w.service);
}

/** Why the Service leaves out a workload its selector matches, or undefined when it admits it (or does not select it). */
export function refusedIdentity(service: Service, w: SelectableWorkload): string | undefined {
  if (!selects(service, w.namespace, w.labels)) return undefined;
  const ids = admittedIdentities(service);
  if (ids.has(w.service)) return undefined;
  return `Service ${serviceKey(service.metadata.namespace, service.metadata.name)} selects the labels of this workload but does not admit its identity ${w.service}: it admits ${[...ids].sort().join(', ')} (list more in the annotation ${SERVICE_ACCOUNTS_ANNOTATION}); not one of its endpoints`;
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

/** The Services that a workload's inbound entry serves (a port of theirs targets it), among those selecting the workload. */
export function servedBy(selecting: readonly Service[], inbound: readonly InboundPort[], entry: InboundPort): Service[] {
  return selecting.filter((s) => s.spec.ports.some((p) => inboundFor(inbound, p.targetPort) === entry));
}
