// The parentRefs of an HTTPRoute or GRPCRoute: a Service (GAMMA, east–west) or a Gateway
// (north–south). A route may name both. TCPRoute keeps Service parents only (http-route.ts).
import { z } from 'zod';
import { checkDns1123Label, checkDns1123Subdomain } from './names.js';
import { describeValue } from './problem.js';
import { refinedObject } from './schema-kit.js';

/** The Gateway API's group: the `group` of a Gateway parentRef. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** A Service parent (GAMMA): the route applies to traffic sent to this Service (port). */
export interface ServiceParentRef {
  group: '';
  kind: 'Service';
  name: string;
  namespace?: string;
  port?: number;
}

/** A Gateway parent: the route is offered to the Gateway's listeners (one by `sectionName` or `port`). */
export interface GatewayParentRef {
  group: typeof GATEWAY_GROUP;
  kind: 'Gateway';
  name: string;
  namespace?: string;
  /** The name of one listener of the Gateway. */
  sectionName?: string;
  /** The listeners on this port only. */
  port?: number;
}

export type RouteParentRef = ServiceParentRef | GatewayParentRef;

const CORE_GROUPS = ['', 'core'];

/**
 * Schema of a route's parentRef. The kind defaults to Service (Trellis began with GAMMA), or to
 * Gateway when the group is the Gateway API's; each kind must come with its own group.
 */
export const routeParentRef = refinedObject(
  {
    group: z.string().optional(),
    kind: z.string().optional(),
    name: z.string(),
    namespace: z.string().optional(),
    sectionName: z.string().optional(),
    port: z.int().min(1).max(65535).optional(),
  },
  (p, ctx) => {
    const problem = (path: string, message: string, input: unknown) => ctx.addIssue({ code: 'custom', message, path: [path], input });
    const kind = p.kind ?? (p.group === GATEWAY_GROUP ? 'Gateway' : 'Service');
    if (kind === 'Service') {
      if (p.group !== undefined && !CORE_GROUPS.includes(p.group)) problem('group', `a Service parent's group must be "" (the core group), got ${describeValue(p.group)}`, p.group);
      if (p.sectionName !== undefined) problem('sectionName', 'a Service parent has no sections: select the Service port with "port" instead', p.sectionName);
      const name = checkDns1123Label(p.name);
      if (name) problem('name', name, p.name);
    } else if (kind === 'Gateway') {
      if (p.group !== undefined && p.group !== GATEWAY_GROUP)
        problem('kind', `kind "Gateway" needs group ${describeValue(GATEWAY_GROUP)}, got group ${describeValue(p.group)}`, p.kind);
      const name = checkDns1123Subdomain(p.name);
      if (name) problem('name', name, p.name);
      const section = p.sectionName === undefined ? undefined : checkDns1123Subdomain(p.sectionName);
      if (section) problem('sectionName', `must name a listener of the Gateway: ${section}`, p.sectionName);
    } else {
      problem('kind', `must be "Service" (GAMMA, mesh traffic) or "Gateway" (ingress), got ${describeValue(p.kind)}`, p.kind);
    }
    const ns = p.namespace === undefined ? undefined : checkDns1123Label(p.namespace);
    if (ns) problem('namespace', ns, p.namespace);
  },
);

/** The canonical parentRef: kind and group always written, absent optional fields left out. */
export function toRouteParentRef(p: z.output<typeof routeParentRef>): RouteParentRef {
  const gateway = (p.kind ?? (p.group === GATEWAY_GROUP ? 'Gateway' : 'Service')) === 'Gateway';
  const out: RouteParentRef = gateway ? { group: GATEWAY_GROUP, kind: 'Gateway', name: p.name } : { group: '', kind: 'Service', name: p.name };
  if (p.namespace !== undefined) out.namespace = p.namespace;
  if (gateway && p.sectionName !== undefined) (out as GatewayParentRef).sectionName = p.sectionName;
  if (p.port !== undefined) out.port = p.port;
  return out;
}

/** `Gateway/ns/name` or `ns/name:port` for tables and messages. */
export function describeParentRef(p: RouteParentRef): string {
  const ns = p.namespace ? `${p.namespace}/` : '';
  if (p.kind === 'Gateway') return `Gateway/${ns}${p.name}${p.sectionName !== undefined ? `.${p.sectionName}` : ''}${p.port !== undefined ? `:${p.port}` : ''}`;
  return `${ns}${p.name}${p.port !== undefined ? `:${p.port}` : ''}`;
}
