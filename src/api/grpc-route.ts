// Parsing a GRPCRoute (Gateway API, GAMMA): Service parents, rules matching gRPC service and
// method (exact or regular expression) and headers, weighted Service backends.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { BackendRef, HTTPHeaderMatch, ObjectMeta, ParentRef } from './resource.js';
import { GATEWAY_API_VERSION } from './resource.js';
import { backendRef, MAX_BACKEND_REFS, MAX_HOSTNAMES, MAX_MATCHES, MAX_PARENT_REFS, MAX_RULES, parentRef, toBackendRef, toParentRef } from './http-route.js';
import { envelope, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Subdomain, checkHeaderName, checkHostname } from './names.js';
import { checkRe2 } from './re2.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { checked, closedObject, parseWithSchema } from './schema-kit.js';

export interface GRPCMethodMatch {
  type: 'Exact' | 'RegularExpression';
  service?: string;
  method?: string;
}
export interface GRPCRouteMatch {
  method?: GRPCMethodMatch;
  headers?: HTTPHeaderMatch[];
}
export interface GRPCRouteRule {
  name?: string;
  matches: GRPCRouteMatch[];
  backendRefs: BackendRef[];
}
export interface GRPCRoute {
  apiVersion: typeof GATEWAY_API_VERSION;
  kind: 'GRPCRoute';
  metadata: ObjectMeta & { namespace: string };
  spec: { parentRefs: ParentRef[]; hostnames?: string[]; rules: GRPCRouteRule[] };
}

// A gRPC service name is dotted identifiers; a method an identifier (Gateway API's patterns).
const SERVICE = /^(?:[A-Za-z_][A-Za-z_0-9]*\.)*[A-Za-z_][A-Za-z_0-9]*$/;
const METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

const method = closedObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  service: z.string().max(1024).optional(),
  method: z.string().max(1024).optional(),
}).superRefine((m, ctx) => {
  if (m.service === undefined && m.method === undefined) ctx.addIssue({ code: 'custom', message: 'set service, method or both', input: m });
  for (const [field, re] of [
    ['service', SERVICE],
    ['method', METHOD],
  ] as const) {
    const v = m[field];
    if (v === undefined) continue;
    const problem = m.type === 'Exact' ? (re.test(v) ? undefined : `must be a gRPC ${field} name, got ${describeValue(v)}`) : checkRe2(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [field], input: v });
  }
});

const header = closedObject({ type: z.enum(['Exact', 'RegularExpression']).default('Exact'), name: checked(z.string(), checkHeaderName), value: z.string().max(4096) }).superRefine(
  (h, ctx) => {
    const problem = h.type === 'RegularExpression' ? checkRe2(h.value) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['value'], input: h.value });
  },
);
const match = closedObject({ method: method.optional(), headers: z.array(header).max(16).optional() });

const rule = closedObject(
  {
    name: checked(z.string(), checkDns1123Subdomain).optional(),
    matches: z.array(match).max(MAX_MATCHES).optional(),
    backendRefs: z.array(backendRef).max(MAX_BACKEND_REFS).optional(),
  },
  { filters: 'GRPCRoute filters are not implemented', sessionPersistence: 'session persistence is not implemented' },
);

const spec = closedObject({
  parentRefs: z.array(parentRef).min(1).max(MAX_PARENT_REFS),
  hostnames: z.array(checked(z.string(), checkHostname)).max(MAX_HOSTNAMES).optional(),
  rules: z.array(rule).max(MAX_RULES).optional(),
});

const grpcRouteSchema = envelope('GRPCRoute', [GATEWAY_API_VERSION], namespacedMetadata(checkDns1123Subdomain), spec);

/** Parses a raw GRPCRoute: defaults applied (a rule without matches matches every method). */
export function parseGRPCRoute(raw: unknown): Result<GRPCRoute, Problem[]> {
  const r = parseWithSchema(grpcRouteSchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  const rules = (s.rules?.length ? s.rules : [{}]).map((x: { name?: string; matches?: z.output<typeof match>[]; backendRefs?: z.output<typeof backendRef>[] }): GRPCRouteRule => ({
    ...(x.name !== undefined ? { name: x.name } : {}),
    matches: (x.matches ?? []).map((m) => ({
      ...(m.method
        ? {
            method: {
              type: m.method.type,
              ...(m.method.service !== undefined ? { service: m.method.service } : {}),
              ...(m.method.method !== undefined ? { method: m.method.method } : {}),
            },
          }
        : {}),
      ...(m.headers?.length ? { headers: m.headers.map((h) => ({ type: h.type, name: h.name, value: h.value })) } : {}),
    })),
    backendRefs: (x.backendRefs ?? []).map(toBackendRef),
  }));
  return ok({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'GRPCRoute',
    metadata: toNamespacedMeta(metadata),
    spec: { parentRefs: s.parentRefs.map(toParentRef), ...(s.hostnames?.length ? { hostnames: s.hostnames } : {}), rules },
  });
}
