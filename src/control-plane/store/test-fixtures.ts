// Typed resources for the store's and the REST API's tests.
import { DEFAULT_MESH_CONFIG, GATEWAY_API_VERSION, TRELLIS_API_VERSION, type HTTPRoute, type MeshConfig, type Service } from '../../api/resource.js';

export function service(name: string, opts: { namespace?: string; port?: number; selector?: Record<string, string>; labels?: Record<string, string> } = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: opts.namespace ?? 'default', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: { selector: opts.selector ?? { app: name }, ports: [{ name: 'http', port: opts.port ?? 8080, targetPort: opts.port ?? 8080, protocol: 'TCP', appProtocol: 'http' }] },
  };
}

export function httpRoute(name: string, parent: string, backends: { name: string; weight: number }[], namespace = 'default'): HTTPRoute {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: parent, port: 8080 }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: backends.map((b) => ({ group: '', kind: 'Service', name: b.name, port: 8080, weight: b.weight })) },
      ],
    },
  };
}

export function meshConfig(spec: Partial<MeshConfig['spec']> = {}): MeshConfig {
  return { apiVersion: TRELLIS_API_VERSION, kind: 'MeshConfig', metadata: { name: 'default' }, spec: { ...DEFAULT_MESH_CONFIG, ...spec } };
}
