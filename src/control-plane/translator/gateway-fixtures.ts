// Builders of Gateway API inputs for translator and status tests: a Trellis GatewayClass, Gateways from listener lists, TLS Secrets, routes with Gateway parents.
import type { Gateway, GatewayClass, GatewayListener, GatewayParentRef, HTTPRoute, Secret } from '../../api/resource.js';
import { TRELLIS_GATEWAY_CONTROLLER } from '../../api/gateway-class.js';
import { GATEWAY_GROUP } from '../../api/route-parent-ref.js';
import { backend, httpRoute } from './test-fixtures.js';

export const trellisClass = (name = 'trellis', controllerName = TRELLIS_GATEWAY_CONTROLLER): GatewayClass => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name },
  spec: { controllerName },
});

type ListenerIn = Partial<GatewayListener> & Pick<GatewayListener, 'name' | 'port' | 'protocol'> & { certs?: string[] };

export function gateway(name: string, listeners: ListenerIn[], opts: { namespace?: string; className?: string } = {}): Gateway {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: {
      gatewayClassName: opts.className ?? 'trellis',
      listeners: listeners.map(({ certs, ...l }) => ({
        allowedRoutes: { namespaces: { from: 'Same' } },
        ...l,
        ...(certs ? { tls: { mode: 'Terminate' as const, certificateRefs: certs.map((c) => ({ group: '' as const, kind: 'Secret' as const, name: c })) } } : {}),
      })),
    },
  };
}

/** A Secret whose PEM is a placeholder (the translator copies it; the API checks real ones). */
export const tlsSecret = (name: string, namespace = 'default'): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(`CERT ${name}`).toString('base64'), 'tls.key': Buffer.from(`KEY ${name}`).toString('base64') },
});

export const gatewayParent = (name: string, more: Partial<GatewayParentRef> = {}): GatewayParentRef => ({ group: GATEWAY_GROUP, kind: 'Gateway', name, ...more });

/** An HTTPRoute on Gateway parents, one rule to `to` (port 8080) matching `path` (a prefix). */
export function gatewayRoute(name: string, parents: GatewayParentRef[], opts: { hostnames?: string[]; path?: string; to?: string; namespace?: string } = {}): HTTPRoute {
  const r = httpRoute(
    name,
    parents,
    [{ matches: [{ path: { type: 'PathPrefix', value: opts.path ?? '/' } }], backendRefs: [backend(opts.to ?? 'shop')] }],
    opts.namespace ? { namespace: opts.namespace } : {},
  );
  return opts.hostnames ? { ...r, spec: { ...r.spec, hostnames: opts.hostnames } } : r;
}
