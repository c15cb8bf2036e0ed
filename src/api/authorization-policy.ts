// Parsing an AuthorizationPolicy: action, target, and rules over the caller (service accounts,
// namespaces, authenticated, the end user's JWT principal) and, for HTTP and gRPC, the operation
// (methods, paths, headers) and conditions on the JWT's claims.
import { z } from 'zod';
import { ok, type Result } from '../common/result.js';
import type { AuthorizationPolicy } from './authorization-types.js';
import { envelope, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Label } from './names.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { TRELLIS_API_VERSION } from './resource.js';
import { checked, closedObject, parseWithSchema } from './schema-kit.js';

const label = checked(z.string(), checkDns1123Label);
const serviceAccount = checked(z.string(), (v) => {
  const parts = v.split('/');
  if (parts.length > 2) return `must be NAME or NAMESPACE/NAME, got ${describeValue(v)}`;
  for (const p of parts) {
    const why = checkDns1123Label(p);
    if (why) return why;
  }
  return undefined;
});
/** Bounds that keep one policy far below what a proxy can receive in one xDS message. */
export const MAX_POLICY_RULES = 64;
/** Sources or operations in a rule, and names, paths, methods or headers in each. */
export const MAX_POLICY_LIST_ITEMS = 64;
const MAX_PATH_LENGTH = 1024;
const MAX_HEADER_VALUE_LENGTH = 4096;

const path = checked(z.string().max(MAX_PATH_LENGTH), (v) => (v.startsWith('/') ? undefined : `must start with /, got ${describeValue(v)}`));
const nonEmpty = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(MAX_POLICY_LIST_ITEMS);

/** Istio's string patterns: exact, `*`, `prefix*` or `*suffix`. */
const pattern = checked(z.string().min(1).max(1024), (v) =>
  v.length > 1 && v.slice(1, -1).includes('*')
    ? `must be exact, "*", "prefix*" or "*suffix" (one * at an end), got ${describeValue(v)}`
    : v === '**'
      ? 'must be "*", not "**"'
      : undefined,
);

const source = checked(
  closedObject({
    serviceAccounts: nonEmpty(serviceAccount).optional(),
    namespaces: nonEmpty(label).optional(),
    authenticated: z.literal(true, { error: () => 'must be true (leave it out to match callers with or without an identity)' }).optional(),
    requestPrincipals: nonEmpty(pattern).optional(),
    notRequestPrincipals: nonEmpty(pattern).optional(),
  }),
  (s) =>
    s.serviceAccounts || s.namespaces || s.authenticated || s.requestPrincipals || s.notRequestPrincipals
      ? undefined
      : 'must name serviceAccounts, namespaces or authenticated: true (or requestPrincipals, notRequestPrincipals)',
);

/** `request.auth.claims[a][b]` and the other request.auth keys Istio names. */
export const CONDITION_KEY = /^request\.auth\.(?:principal|audiences|presenter|claims(?:\[[^[\]]+\])+)$/;

const condition = checked(
  closedObject({
    key: checked(z.string().max(512), (v) =>
      CONDITION_KEY.test(v)
        ? undefined
        : `must be request.auth.principal, request.auth.audiences, request.auth.presenter or request.auth.claims[NAME] (nested: [a][b]), got ${describeValue(v)}`,
    ),
    values: nonEmpty(pattern).optional(),
    notValues: nonEmpty(pattern).optional(),
  }),
  (c) => (c.values || c.notValues ? undefined : 'must name values or notValues'),
);

const pathMatch = checked(closedObject({ exact: path.optional(), prefix: path.optional() }), (p) =>
  (p.exact === undefined) === (p.prefix === undefined) ? 'exactly one of exact and prefix is required' : undefined,
);

const headerMatch = checked(
  closedObject({
    name: checked(z.string(), (v) => (/^:?[a-z0-9-]+$/i.test(v) ? undefined : `must be a header name, got ${describeValue(v)}`)),
    exact: z.string().max(MAX_HEADER_VALUE_LENGTH).optional(),
    prefix: z.string().max(MAX_HEADER_VALUE_LENGTH).optional(),
    present: z.literal(true).optional(),
  }),
  (h) => ([h.exact, h.prefix, h.present].filter((x) => x !== undefined).length === 1 ? undefined : 'exactly one of exact, prefix and present is required'),
);

const method = checked(z.string(), (v) => (/^[A-Z]+$/.test(v) ? undefined : `must be an upper-case HTTP method, got ${describeValue(v)}`));

const operation = checked(
  closedObject({
    methods: nonEmpty(method).optional(),
    paths: nonEmpty(pathMatch).optional(),
    headers: nonEmpty(headerMatch).optional(),
  }),
  (o) => (o.methods || o.paths || o.headers ? undefined : 'must name methods, paths or headers'),
);

const rule = closedObject({ from: nonEmpty(source).optional(), to: nonEmpty(operation).optional(), when: nonEmpty(condition).optional() });

const spec = closedObject(
  {
    targetRef: closedObject({ group: z.literal('').optional(), kind: z.literal('Service'), name: label }).optional(),
    action: z.enum(['ALLOW', 'DENY']),
    rules: z.array(rule).max(MAX_POLICY_RULES),
  },
  { selector: 'select the protected Service with targetRef' },
);

const schema = envelope('AuthorizationPolicy', [TRELLIS_API_VERSION], namespacedMetadata(checkDns1123Label), spec);

/**
 * Parses a raw AuthorizationPolicy. An ALLOW policy with no rules allows nothing (so it denies
 * every request to its target); a DENY policy with no rules denies nothing.
 */
export function parseAuthorizationPolicy(raw: unknown): Result<AuthorizationPolicy, Problem[]> {
  const r = parseWithSchema(schema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return ok({
    apiVersion: TRELLIS_API_VERSION,
    kind: 'AuthorizationPolicy',
    metadata: toNamespacedMeta(metadata),
    spec: {
      ...(s.targetRef ? { targetRef: { kind: 'Service', name: s.targetRef.name } } : {}),
      action: s.action,
      rules: s.rules.map((x) =>
        strip({
          from: x.from?.map((f) => strip({ ...f })),
          to: x.to?.map((o) =>
            strip({
              methods: o.methods,
              paths: o.paths?.map((p) => (p.exact !== undefined ? { exact: p.exact } : { prefix: p.prefix! })),
              headers: o.headers?.map((h) => strip({ ...h })),
            }),
          ),
          when: x.when?.map((c) => strip({ ...c })),
        }),
      ),
    },
  });
}
