// Parsing a TCPRoute (Gateway API, GAMMA): a weighted split of opaque TCP connections to a
// Service port among Service backends. TCP has nothing to match on, so there is one rule.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { BackendRef, ObjectMeta, ParentRef } from './resource.js';
import { backendRef, MAX_BACKEND_REFS, MAX_PARENT_REFS, parentRef, toBackendRef, toParentRef } from './http-route.js';
import { envelope, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Subdomain } from './names.js';
import type { Problem } from './problem.js';
import { closedObject, parseWithSchema } from './schema-kit.js';

export const TCP_ROUTE_API_VERSION = 'gateway.networking.k8s.io/v1alpha2';

export interface TCPRoute {
  apiVersion: typeof TCP_ROUTE_API_VERSION;
  kind: 'TCPRoute';
  metadata: ObjectMeta & { namespace: string };
  spec: { parentRefs: ParentRef[]; rules: { name?: string; backendRefs: BackendRef[] }[] };
}

const rule = closedObject({ name: z.string().optional(), backendRefs: z.array(backendRef).min(1).max(MAX_BACKEND_REFS) });

const spec = closedObject({
  parentRefs: z.array(parentRef).min(1).max(MAX_PARENT_REFS),
  // Connections cannot be told apart, so a second rule could never be chosen.
  rules: z.array(rule).min(1).max(1, { error: 'must have exactly 1 rule: TCP connections have nothing to match on' }),
});

const tcpRouteSchema = envelope('TCPRoute', [TCP_ROUTE_API_VERSION], namespacedMetadata(checkDns1123Subdomain), spec);

export function parseTCPRoute(raw: unknown): Result<TCPRoute, Problem[]> {
  const r = parseWithSchema(tcpRouteSchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  return ok({
    apiVersion: TCP_ROUTE_API_VERSION,
    kind: 'TCPRoute',
    metadata: toNamespacedMeta(metadata),
    spec: {
      parentRefs: s.parentRefs.map(toParentRef),
      rules: s.rules.map((x) => ({ ...(x.name !== undefined ? { name: x.name } : {}), backendRefs: x.backendRefs.map(toBackendRef) })),
    },
  });
}
