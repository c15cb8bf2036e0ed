// Parsing a Gateway (Gateway API): the listeners (port, protocol, hostname, TLS, which routes
// may attach) of one ingress gateway, run by `trellis gateway --name NAME -n NAMESPACE`.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { ObjectMeta } from './resource.js';
import { GATEWAY_API_VERSION } from './resource.js';
import { envelope, labelMap, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Label, checkDns1123Subdomain, checkHostname } from './names.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { GATEWAY_GROUP } from './route-parent-ref.js';
import { checked, closedObject, fieldOf, parseWithSchema, refinedObject, uniqueItems } from './schema-kit.js';

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP';
/** The route kinds a listener may accept; which of them fit its protocol is said in its status. */
export const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute'] as const;
export type RouteKindName = (typeof ROUTE_KINDS)[number];

/** A certificate and key held in a Secret of type kubernetes.io/tls (see secret.ts). */
export interface CertificateRef {
  group: '';
  kind: 'Secret';
  name: string;
  /** Another namespace than the Gateway's needs a ReferenceGrant, which Trellis does not have yet. */
  namespace?: string;
}
export interface ListenerTLS {
  mode: 'Terminate' | 'Passthrough';
  certificateRefs: CertificateRef[];
}
export interface AllowedRoutes {
  /** Same: the Gateway's namespace; Selector: namespaces whose labels match (a namespace has one label, kubernetes.io/metadata.name). */
  namespaces: { from: 'Same' | 'All' | 'Selector'; selector?: { matchLabels: Record<string, string> } };
  /** Absent: the kinds that fit the protocol (HTTPRoute and GRPCRoute on HTTP and HTTPS). */
  kinds?: { group: string; kind: RouteKindName }[];
}
export interface GatewayListener {
  name: string;
  port: number;
  protocol: ListenerProtocol;
  /** Requests (by Host) or connections (by SNI) for this name only; absent: any. */
  hostname?: string;
  tls?: ListenerTLS;
  allowedRoutes: AllowedRoutes;
}
export interface Gateway {
  apiVersion: typeof GATEWAY_API_VERSION;
  kind: 'Gateway';
  metadata: ObjectMeta & { namespace: string };
  spec: { gatewayClassName: string; listeners: GatewayListener[] };
}

/** Gateway API limits. */
export const MAX_LISTENERS = 64;
export const MAX_CERTIFICATE_REFS = 64;

const certificateRef = closedObject({
  group: checked(z.string(), (g) => (g === '' || g === 'core' ? undefined : `must be "" (the core group: certificates are Secrets), got ${describeValue(g)}`)).optional(),
  kind: checked(z.string(), (k) => (k === 'Secret' ? undefined : `must be "Secret" (a kubernetes.io/tls Secret), got ${describeValue(k)}`)).optional(),
  name: checked(z.string(), checkDns1123Subdomain),
  namespace: checked(z.string(), checkDns1123Label).optional(),
});

const tls = closedObject(
  {
    mode: z.enum(['Terminate', 'Passthrough']).default('Terminate'),
    certificateRefs: z.array(certificateRef).max(MAX_CERTIFICATE_REFS).optional(),
  },
  { options: 'TLS options are not implemented', frontendValidation: 'client certificates at the gateway are not implemented' },
);

const allowedRoutes = closedObject({
  namespaces: refinedObject(
    {
      from: z.enum(['Same', 'All', 'Selector']).default('Same'),
      selector: closedObject({ matchLabels: labelMap() }, { matchExpressions: 'only matchLabels is implemented' }).optional(),
    },
    (n, ctx) => {
      if (n.from === 'Selector' && n.selector === undefined) ctx.addIssue({ code: 'custom', message: 'required when from is "Selector"', path: ['selector'], input: undefined });
      if (n.from !== 'Selector' && n.selector !== undefined)
        ctx.addIssue({ code: 'custom', message: `must not be set when from is ${describeValue(n.from)} (only with "Selector")`, path: ['selector'], input: n.selector });
    },
  ).optional(),
  kinds: z
    .array(
      closedObject({
        group: checked(z.string(), (g) => (g === GATEWAY_GROUP ? undefined : `must be ${describeValue(GATEWAY_GROUP)}, got ${describeValue(g)}`)).optional(),
        kind: z.enum(ROUTE_KINDS),
      }),
    )
    .max(8)
    .optional(),
});

const listener = refinedObject(
  {
    name: checked(z.string(), checkDns1123Subdomain),
    port: z.int().min(1).max(65535),
    protocol: z.enum(['HTTP', 'HTTPS', 'TLS', 'TCP']),
    hostname: checked(z.string(), checkHostname).optional(),
    tls: tls.optional(),
    allowedRoutes: allowedRoutes.optional(),
  },
  (l, ctx) => {
    const problem = (path: (string | number)[], message: string, input: unknown) => ctx.addIssue({ code: 'custom', message, path, input });
    const refs = l.tls?.certificateRefs ?? [];
    if (l.protocol === 'HTTP' || l.protocol === 'TCP') {
      if (l.tls !== undefined) problem(['tls'], `must not be set for protocol ${l.protocol} (only HTTPS and TLS listeners have TLS)`, l.tls);
    } else if (l.tls === undefined) {
      problem(['tls'], `required for protocol ${l.protocol}: mode and certificateRefs`, undefined);
    } else if (l.protocol === 'HTTPS' && l.tls.mode !== 'Terminate') {
      problem(['tls', 'mode'], `must be "Terminate" for protocol HTTPS (Passthrough needs protocol TLS and a TLSRoute), got ${describeValue(l.tls.mode)}`, l.tls.mode);
    } else if (l.tls.mode === 'Terminate' && refs.length === 0) {
      problem(['tls', 'certificateRefs'], 'must name at least one Secret when mode is "Terminate"', refs);
    } else if (l.tls.mode === 'Passthrough' && refs.length > 0) {
      problem(['tls', 'certificateRefs'], 'must be empty when mode is "Passthrough" (the backend holds the certificate)', refs);
    }
    if (l.protocol === 'TCP' && l.hostname !== undefined) problem(['hostname'], 'must not be set for protocol TCP (a TCP connection carries no host name)', l.hostname);
  },
);

const nameOf = (x: unknown): string | undefined => (typeof fieldOf(x, 'name') === 'string' ? (fieldOf(x, 'name') as string) : undefined);

const spec = closedObject(
  {
    gatewayClassName: checked(z.string(), checkDns1123Subdomain),
    listeners: uniqueItems(z.array(listener).min(1).max(MAX_LISTENERS), 'listeners', ['name'], nameOf, 'listener name'),
  },
  {
    addresses: 'a Trellis gateway listens on the address given to trellis gateway --address',
    infrastructure: 'a Trellis gateway is a process started with trellis gateway',
    backendTLS: 'backends are reached over the mesh mTLS',
    allowedListeners: 'ListenerSets are not implemented',
  },
);

const gatewaySchema = envelope('Gateway', [GATEWAY_API_VERSION, 'gateway.networking.k8s.io/v1beta1'], namespacedMetadata(checkDns1123Subdomain), spec);
type ParsedListener = z.output<typeof listener>;

function toListener(l: ParsedListener): GatewayListener {
  const ns = l.allowedRoutes?.namespaces;
  const out: GatewayListener = {
    name: l.name,
    port: l.port,
    protocol: l.protocol,
    allowedRoutes: { namespaces: { from: ns?.from ?? 'Same', ...(ns?.selector ? { selector: { matchLabels: ns.selector.matchLabels } } : {}) } },
  };
  if (l.hostname !== undefined) out.hostname = l.hostname;
  if (l.tls) {
    const certificateRefs = (l.tls.certificateRefs ?? []).map((r): CertificateRef => ({
      group: '',
      kind: 'Secret',
      name: r.name,
      ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
    }));
    out.tls = { mode: l.tls.mode, certificateRefs };
  }
  if (l.allowedRoutes?.kinds?.length) out.allowedRoutes.kinds = l.allowedRoutes.kinds.map((k) => ({ group: k.group ?? GATEWAY_GROUP, kind: k.kind }));
  return out;
}

/** Parses a raw Gateway into canonical form: allowedRoutes defaulted (namespaces Same), certificateRefs with group and kind. */
export function parseGateway(raw: unknown): Result<Gateway, Problem[]> {
  const r = parseWithSchema(gatewaySchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  return ok({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'Gateway',
    metadata: toNamespacedMeta(metadata),
    spec: { gatewayClassName: s.gatewayClassName, listeners: s.listeners.map(toListener) },
  });
}
