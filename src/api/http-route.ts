// Parsing an HTTPRoute (Gateway API, GAMMA): Service parents, rules, weighted Service backends.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { BackendRef, HTTPRoute, HTTPRouteRule, ParentRef } from './resource.js';
import { GATEWAY_API_VERSION } from './resource.js';
import { defaultMatch, httpRouteMatchSchema, toHTTPRouteMatch } from './http-route-match.js';
import { durationField, parseDuration } from './duration.js';
import { checkFilters, httpRouteFilterSchema, toHTTPRouteFilter } from './http-route-filter.js';
import { MAX_RETRY_ATTEMPTS } from './traffic-policy.js';
import { envelope, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Label, checkDns1123Subdomain, checkHostname } from './names.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { checked, closedObject, fieldOf, parseWithSchema, uniqueItems } from './schema-kit.js';
import { routeParentRef, toRouteParentRef } from './route-parent-ref.js';

/** API versions accepted for HTTPRoute; the first is what parsing produces. */
export const HTTP_ROUTE_API_VERSIONS = [GATEWAY_API_VERSION, 'gateway.networking.k8s.io/v1beta1'] as const;
/** Gateway API limits. */
export const MAX_PARENT_REFS = 32;
export const MAX_HOSTNAMES = 16;
export const MAX_RULES = 16;
export const MAX_MATCHES = 8;
export const MAX_BACKEND_REFS = 16;
export const MAX_WEIGHT = 1_000_000;

const portNumber = z.int().min(1).max(65535);

/** `group` of a reference: the core group, written `""` (canonical) or `core`. */
function coreGroup(what: string) {
  return checked(z.string(), (g) => (g === '' || g === 'core' ? undefined : `${what}; group must be "" (the core group), got ${describeValue(g)}`)).default('');
}

function serviceKind(what: string) {
  return checked(z.string(), (k) => (k === 'Service' ? undefined : `${what}; kind must be "Service", got ${describeValue(k)}`)).default('Service');
}

const PARENTS_ONLY = 'only Service parents (GAMMA) are supported';
const BACKENDS_ONLY = 'only Service backends are supported';

/** Schema of a parentRef naming a Service (GAMMA): TCPRoute's (HTTPRoute and GRPCRoute take route-parent-ref.ts's). */
export const parentRef = closedObject(
  {
    group: coreGroup(PARENTS_ONLY),
    kind: serviceKind(PARENTS_ONLY),
    name: checked(z.string(), checkDns1123Label),
    namespace: checked(z.string(), checkDns1123Label).optional(),
    port: portNumber.optional(),
  },
  { sectionName: 'select the Service port with "port" instead' },
);

/** Schema of a weighted Service backendRef; shared by GRPCRoute and TCPRoute. */
export const backendRef = closedObject(
  {
    group: coreGroup(BACKENDS_ONLY),
    kind: serviceKind(BACKENDS_ONLY),
    name: checked(z.string(), checkDns1123Label),
    namespace: checked(z.string(), checkDns1123Label).optional(),
    port: z
      .int({ error: (iss) => (iss.input === undefined ? 'required: the port of the backend Service' : undefined) })
      .min(1)
      .max(65535),
    weight: z.int().min(0).max(MAX_WEIGHT).default(1),
  },
  { filters: 'per-backend filters are not implemented' },
);

const routeTimeouts = closedObject({ request: durationField(0, 3_600_000).optional(), backendRequest: durationField(0, 3_600_000).optional() }).superRefine((t, ctx) => {
  const request = t.request === undefined ? 0 : parseDuration(t.request);
  const backend = t.backendRequest === undefined ? 0 : parseDuration(t.backendRequest);
  if (typeof request === 'string' || typeof backend === 'string') return; // reported by the field itself
  // Gateway API: backendRequest must not be longer than request (0 means no timeout).
  if (request > 0 && backend > request)
    ctx.addIssue({
      code: 'custom',
      message: `must not be longer than request (${t.request}), got ${describeValue(t.backendRequest)}`,
      path: ['backendRequest'],
      input: t.backendRequest,
    });
});

const routeRetry = closedObject({
  codes: z.array(z.int().min(400).max(599)).max(16).optional(),
  attempts: z.int().min(0).max(MAX_RETRY_ATTEMPTS).optional(),
  backoff: durationField(1, 3_600_000).optional(),
});

const rule = closedObject(
  {
    name: checked(z.string(), checkDns1123Subdomain).optional(),
    matches: z.array(httpRouteMatchSchema).max(MAX_MATCHES).optional(),
    backendRefs: z.array(backendRef).max(MAX_BACKEND_REFS).optional(),
    timeouts: routeTimeouts.optional(),
    retry: routeRetry.optional(),
    filters: z
      .array(httpRouteFilterSchema)
      .max(16)
      .superRefine((fs, ctx) => {
        const problem = checkFilters(fs);
        if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.index, 'type'], input: fs[problem.index]!.type });
      })
      .optional(),
  },
  {
    sessionPersistence: 'session persistence is not implemented',
  },
);

const nameOf = (x: unknown): string | undefined => (typeof fieldOf(x, 'name') === 'string' ? (fieldOf(x, 'name') as string) : undefined);

const spec = closedObject({
  parentRefs: z.array(routeParentRef).min(1).max(MAX_PARENT_REFS),
  hostnames: z.array(checked(z.string(), checkHostname)).max(MAX_HOSTNAMES).optional(),
  rules: uniqueItems(z.array(rule).max(MAX_RULES), 'rules', ['name'], nameOf, 'rule name').optional(),
});

const httpRouteSchema = envelope('HTTPRoute', HTTP_ROUTE_API_VERSIONS, namespacedMetadata(checkDns1123Subdomain), spec);

type Parsed = z.output<typeof httpRouteSchema>;
type ParsedRule = NonNullable<Parsed['spec']['rules']>[number];

export function toParentRef(p: z.output<typeof parentRef>): ParentRef {
  const out: ParentRef = { group: '', kind: 'Service', name: p.name };
  if (p.namespace !== undefined) out.namespace = p.namespace;
  if (p.port !== undefined) out.port = p.port;
  return out;
}

export function toBackendRef(b: NonNullable<ParsedRule['backendRefs']>[number]): BackendRef {
  const out: BackendRef = { group: '', kind: 'Service', name: b.name, port: b.port, weight: b.weight };
  if (b.namespace !== undefined) out.namespace = b.namespace;
  return out;
}

/** The canonical rule: at least one match (default PathPrefix `/`), backendRefs always a list. */
function toRule(r: ParsedRule): HTTPRouteRule {
  const matches = r.matches?.length ? r.matches.map(toHTTPRouteMatch) : [defaultMatch()];
  const out: HTTPRouteRule = { ...(r.name !== undefined ? { name: r.name } : {}), matches, backendRefs: (r.backendRefs ?? []).map(toBackendRef) };
  if (r.timeouts && (r.timeouts.request !== undefined || r.timeouts.backendRequest !== undefined)) out.timeouts = { ...r.timeouts };
  if (r.filters?.length) out.filters = r.filters.map(toHTTPRouteFilter);
  if (r.retry) out.retry = Object.fromEntries(Object.entries(r.retry).filter(([, v]) => v !== undefined));
  return out;
}

/**
 * Parses a raw HTTPRoute document (v1 or v1beta1) into canonical v1 form: group `core` written `""`,
 * defaults applied (one rule matching every path, weight 1), empty optional lists left out.
 */
export function parseHTTPRoute(raw: unknown): Result<HTTPRoute, Problem[]> {
  const r = parseWithSchema(httpRouteSchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  const rules = s.rules?.length ? s.rules.map(toRule) : [toRule({})];
  return ok({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: toNamespacedMeta(metadata),
    spec: { parentRefs: s.parentRefs.map(toRouteParentRef), ...(s.hostnames?.length ? { hostnames: s.hostnames } : {}), rules },
  });
}
