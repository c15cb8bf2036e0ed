// Builders of translator inputs for tests: short calls for Services, HTTPRoutes, workloads and proxies.
import {
  DEFAULT_MESH_CONFIG,
  type AppProtocol,
  type HTTPRoute,
  type HTTPRouteRule,
  type MeshConfigSpec,
  type GatewayParentRef,
  type ServiceParentRef,
  type Service,
  type TrafficPolicy,
  type GRPCRoute,
  type TCPRoute,
} from '../../api/resource.js';
import type { ProxyMetadata } from '../../xds/node-metadata.js';
import { workloadFromMetadata, type Workload } from '../registry/workload.js';
import type { ProxyNode, TranslatorInput } from './types.js';

export function service(
  name: string,
  opts: { namespace?: string; selector?: Record<string, string>; ports?: { port: number; targetPort?: number; appProtocol?: AppProtocol }[] } = {},
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: {
      selector: opts.selector ?? { app: name },
      ports: (opts.ports ?? [{ port: 8080 }]).map((p) => ({ port: p.port, targetPort: p.targetPort ?? p.port, protocol: 'TCP' as const, appProtocol: p.appProtocol ?? 'http' })),
    },
  };
}

export function httpRoute(
  name: string,
  parents: ((Partial<ServiceParentRef> & { name: string }) | GatewayParentRef)[],
  rules: Partial<HTTPRouteRule>[],
  opts: { namespace?: string; created?: string } = {},
): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: opts.namespace ?? 'default', ...(opts.created ? { creationTimestamp: opts.created } : {}) },
    spec: {
      parentRefs: parents.map((p) => (p.kind === 'Gateway' ? p : { ...p, group: '' as const, kind: 'Service' as const })),
      rules: rules.map((r) => ({ matches: r.matches ?? [], backendRefs: r.backendRefs ?? [], ...(r.name ? { name: r.name } : {}) })),
    },
  };
}

/** A backendRef with the defaults the API parser fills in. */
export const backend = (name: string, port = 8080, weight = 1, namespace?: string) => ({
  group: '',
  kind: 'Service' as const,
  name,
  port,
  weight,
  ...(namespace ? { namespace } : {}),
});

export function metadata(service: string, over: Partial<ProxyMetadata> = {}): ProxyMetadata {
  return { service, namespace: 'default', labels: {}, address: '10.0.0.1', inbound: [{ port: 15006, appPort: 8080 }], upstreams: [], adminPort: 15000, ...over };
}

export function proxy(id: string, service: string, over: Partial<ProxyMetadata> = {}): ProxyNode {
  return { id, ...metadata(service, over) };
}

export function workload(id: string, service: string, over: Partial<ProxyMetadata> & { connected?: boolean } = {}): Workload {
  const { connected = true, ...meta } = over;
  return workloadFromMetadata(id, metadata(service, meta), connected, Date.parse('2026-01-01T00:00:00Z'));
}

export function input(parts: {
  services?: Service[];
  httpRoutes?: HTTPRoute[];
  workloads?: Workload[];
  meshConfig?: Partial<MeshConfigSpec>;
  trafficPolicies?: TrafficPolicy[];
  grpcRoutes?: GRPCRoute[];
  tcpRoutes?: TCPRoute[];
}): TranslatorInput {
  return {
    services: parts.services ?? [],
    httpRoutes: parts.httpRoutes ?? [],
    workloads: parts.workloads ?? [],
    meshConfig: { ...DEFAULT_MESH_CONFIG, ...parts.meshConfig },
    ...(parts.trafficPolicies ? { trafficPolicies: parts.trafficPolicies } : {}),
    ...(parts.grpcRoutes ? { grpcRoutes: parts.grpcRoutes } : {}),
    ...(parts.tcpRoutes ? { tcpRoutes: parts.tcpRoutes } : {}),
  };
}
