// A workload: one instance of a Service, as its proxy described itself in the xDS node
// metadata. The translator turns workloads into endpoints.
import type { EndpointReadiness } from '../../xds/endpoint-readiness.js';
import type { InboundPort, ProxyMetadata } from '../../xds/node-metadata.js';

/** One registered instance of a Service. Immutable: the registry replaces it on every change. */
export interface Workload {
  /** The xDS node id of its proxy; unique in the mesh. */
  readonly id: string;
  readonly service: string;
  readonly namespace: string;
  /** The proxy's labels with `app: <service>` added unless the proxy set `app` itself. */
  readonly labels: Readonly<Record<string, string>>;
  /** Where other proxies reach this workload's inbound listeners. */
  readonly address: string;
  readonly inbound: readonly InboundPort[];
  /** False while the proxy's stream is gone but the grace period has not run out. */
  readonly connected: boolean;
  /** When its proxy last sent a request (RFC 3339). */
  readonly lastSeen: string;
  /** Transparent mode (iptables capture): its inbound capture listener does not terminate mTLS yet. */
  readonly transparent?: boolean;
  /** Transparent mode: inbound ports excluded from capture, which the application answers in plaintext itself. */
  readonly excludedInboundPorts?: readonly number[];
  /** What its proxy reports (absent: a data plane that does not report readiness; its endpoint serves while connected). */
  readonly readiness?: EndpointReadiness;
}

/** The labels a workload is selected by: its own, with `app` defaulting to the service name. */
export function workloadLabels(meta: Pick<ProxyMetadata, 'service' | 'labels'>): Record<string, string> {
  return { app: meta.service, ...meta.labels };
}

/** The workload described by a proxy's metadata. */
export function workloadFromMetadata(id: string, meta: ProxyMetadata, connected: boolean, now: number, readiness?: EndpointReadiness): Workload {
  return {
    id,
    service: meta.service,
    namespace: meta.namespace,
    labels: workloadLabels(meta),
    address: meta.address,
    inbound: meta.inbound.map((i) => ({ port: i.port, appPort: i.appPort })),
    connected,
    lastSeen: new Date(now).toISOString(),
    ...(meta.capture !== undefined ? { transparent: true } : {}),
    ...(meta.capture?.excludeInboundPorts?.length ? { excludedInboundPorts: [...meta.capture.excludeInboundPorts] } : {}),
    ...(readiness !== undefined ? { readiness } : {}),
  };
}

/** True when callers may send it new requests: connected or not, a reported readiness must be `ready`. */
export function takesTraffic(w: Workload): boolean {
  return w.readiness === undefined || w.readiness === 'ready';
}

/** True if the two differ in anything but lastSeen (what the translator reads). */
export function workloadChanged(a: Workload, b: Workload): boolean {
  return JSON.stringify({ ...a, lastSeen: '' }) !== JSON.stringify({ ...b, lastSeen: '' });
}
