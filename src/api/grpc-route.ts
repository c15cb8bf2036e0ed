// Parsing a GRPCRoute (Gateway API, GAMMA): Service parents, rules matching gRPC service and
// method (exact or regular expression) and headers, the GRPCRoute filters (header modifiers,
// mirroring), weighted Service backends.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { BackendRef, HTTPHeaderMatch, ObjectMeta } from './resource.js';
import { GATEWAY_API_VERSION } from './resource.js';
import { checkFilters, httpRouteFilterSchema, toHTTPRouteFilter, type HTTPRouteFilter } from './http-route-filter.js';
import { backendRef, MAX_BACKEND_REFS, MAX_HOSTNAMES, MAX_MATCHES, MAX_PARENT_REFS, MAX_RULES, toBackendRef } from './http-route.js';
import { routeParentRef, toRouteParentRef, type RouteParentRef } from './route-parent-ref.js';
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
/** The filters Gateway API defines for GRPCRoute (ExtensionRef aside), as HTTPRoute has them. */
export type GRPCRouteFilter = Extract<HTTPRouteFilter, { type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' }>;
export interface GRPCRouteRule {
  name?: string;
  matches: GRPCRouteMatch[];
  filters?: GRPCRouteFilter[];
  backendRefs: BackendRef[];
}
export interface GRPCRoute {
  apiVersion: typeof GATEWAY_API_VERSION;
  kind: 'GRPCRoute';
  metadata: ObjectMeta & { namespace: string };
  spec: { parentRefs: RouteParentRef[]; hostnames?: string[]; rules: GRPCRouteRule[] };
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

const GRPC_FILTERS = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror'] as const;

/**
 * An HTTPRoute filter of a type GRPCRoute has (the type checked first, so that the problem
 * names the filter): URLRewrite and RequestRedirect are HTTPRoute's only, a gRPC method being its path.
 */
const grpcFilter = z
  .looseObject({
    type: z.enum(GRPC_FILTERS, {
      error: (iss) => `${describeValue(iss.input)} is not a GRPCRoute filter; expected RequestHeaderModifier, ResponseHeaderModifier or RequestMirror`,
    }),
  })
  // The HTTPRoute schema takes any of its types; this one has already narrowed the type.
  .pipe(httpRouteFilterSchema as unknown as z.ZodType<z.output<typeof httpRouteFilterSchema>, { type: (typeof GRPC_FILTERS)[number] }>);

const rule = closedObject(
  {
    name: checked(z.string(), checkDns1123Subdomain).optional(),
    matches: z.array(match).max(MAX_MATCHES).optional(),
    filters: z
      .array(grpcFilter)
      .max(16)
      .superRefine((fs, ctx) => {
        const problem = checkFilters(fs);
        if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.index, 'type'], input: fs[problem.index]!.type });
      })
      .optional(),
    backendRefs: z.array(backendRef).max(MAX_BACKEND_REFS).optional(),
  },
  { sessionPersistence: 'session persistence is not implemented' },
);

const spec = closedObject({
  parentRefs: z.array(routeParentRef).min(1).max(MAX_PARENT_REFS),
  hostnames: z.array(checked(z.string(), checkHostname)).max(MAX_HOSTNAMES).optional(),
  rules: z.array(rule).max(MAX_RULES).optional(),
});

const grpcRouteSchema = envelope('GRPCRoute', [GATEWAY_API_VERSION], namespacedMetadata(checkDns1123Subdomain), spec);

/** Parses a raw GRPCRoute: defaults applied (a rule without matches matches every method). */
export function parseGRPCRoute(raw: unknown): Result<GRPCRoute, Problem[]> {
  const r = parseWithSchema(grpcRouteSchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  type ParsedRule = { name?: string; matches?: z.output<typeof match>[]; filters?: z.output<typeof grpcFilter>[]; backendRefs?: z.output<typeof backendRef>[] };
  const rules = (s.rules?.length ? s.rules : [{}]).map((x: ParsedRule): GRPCRouteRule => ({
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
    ...(x.filters?.length ? { filters: x.filters.map((f) => toHTTPRouteFilter(f) as GRPCRouteFilter) } : {}),
    backendRefs: (x.backendRefs ?? []).map(toBackendRef),
  }));
  return ok({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'GRPCRoute',
    metadata: toNamespacedMeta(metadata),
    spec: { parentRefs: s.parentRefs.map(toRouteParentRef), ...(s.hostnames?.length ? { hostnames: s.hostnames } : {}), rules },
  });
}
