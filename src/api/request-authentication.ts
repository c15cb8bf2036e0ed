// Parsing a RequestAuthentication: its target and JWT rules (issuer, audiences, exactly one
// source of keys, where the token is read, claims to headers), with the JWKS and URLs checked.
import { z } from 'zod';
import { ok, type Result } from '../common/result.js';
import { envelope, namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Label } from './names.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import type { JwtRule, RequestAuthentication } from './request-authentication-types.js';
import { TRELLIS_API_VERSION } from './resource.js';
import { checked, closedObject, fieldOf, parseWithSchema, uniqueItems } from './schema-kit.js';

/** Bounds that keep one resource far below what a proxy can receive in one xDS message. */
export const MAX_JWT_RULES = 16;
const MAX_LIST_ITEMS = 16;
/** An inline JWK Set (and a fetched one: see the control plane's JWKS cache). */
export const MAX_JWKS_BYTES = 64 * 1024;

const label = checked(z.string(), checkDns1123Label);
const headerName = checked(z.string().max(256), (v) => (/^[a-z0-9!#$%&'*+.^_`|~-]+$/i.test(v) ? undefined : `must be a header name, got ${describeValue(v)}`));
const text = z.string().min(1).max(1024);

/** Why `v` is not a JWK Set with at least one key, or undefined. */
export function checkJwks(v: string): string | undefined {
  if (v.length > MAX_JWKS_BYTES) return `must be at most ${MAX_JWKS_BYTES} bytes of JSON, got ${v.length}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    return `must be a JWK Set in JSON: ${(e as Error).message}`;
  }
  const keys = fieldOf(parsed, 'keys');
  if (!Array.isArray(keys)) return 'must be a JWK Set: a JSON object with a "keys" list';
  if (keys.length === 0) return 'must hold at least one key, got "keys": []';
  const bad = keys.findIndex((k) => typeof fieldOf(k, 'kty') !== 'string');
  return bad < 0 ? undefined : `keys[${bad}] must be a JWK with a "kty", got ${describeValue(keys[bad])}`;
}

const jwksUri = checked(text, (v) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `must be an http:// or https:// URL, got ${describeValue(v)}`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `must be an http:// or https:// URL, got ${describeValue(v)}`;
  return u.username || u.password ? 'must not carry credentials' : undefined;
});

const jwtRule = checked(
  closedObject({
    issuer: text,
    audiences: z.array(text).min(1).max(MAX_LIST_ITEMS).optional(),
    jwks: checked(z.string(), checkJwks).optional(),
    jwksUri: jwksUri.optional(),
    jwksFile: checked(text, (v) => (v.startsWith('/') ? undefined : `must be an absolute path, got ${describeValue(v)}`)).optional(),
    fromHeaders: z
      .array(closedObject({ name: headerName, prefix: z.string().max(64).optional() }))
      .min(1)
      .max(MAX_LIST_ITEMS)
      .optional(),
    fromParams: z
      .array(checked(z.string().min(1).max(128), (v) => (/^[\w.~-]+$/.test(v) ? undefined : `must be a query parameter name, got ${describeValue(v)}`)))
      .min(1)
      .max(MAX_LIST_ITEMS)
      .optional(),
    outputClaimToHeaders: z
      .array(closedObject({ header: headerName, claim: z.string().min(1).max(256) }))
      .min(1)
      .max(MAX_LIST_ITEMS)
      .optional(),
    forwardOriginalToken: z.boolean().default(false),
  }),
  (r) => ([r.jwks, r.jwksUri, r.jwksFile].filter((x) => x !== undefined).length === 1 ? undefined : 'exactly one of jwks, jwksUri and jwksFile is required'),
);

const spec = closedObject(
  {
    targetRef: closedObject({ group: z.string().optional(), kind: z.enum(['Service', 'Gateway']), name: label }).optional(),
    jwtRules: uniqueItems(z.array(jwtRule).min(1).max(MAX_JWT_RULES), 'spec.jwtRules', ['issuer'], (r) => fieldOf(r, 'issuer') as string | undefined, 'issuer'),
  },
  { selector: 'select the Service with targetRef' },
);

const schema = envelope('RequestAuthentication', [TRELLIS_API_VERSION], namespacedMetadata(checkDns1123Label), spec);

/** Parses a raw RequestAuthentication (see request-authentication-types.ts). */
export function parseRequestAuthentication(raw: unknown): Result<RequestAuthentication, Problem[]> {
  const r = parseWithSchema(schema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  return ok({
    apiVersion: TRELLIS_API_VERSION,
    kind: 'RequestAuthentication',
    metadata: toNamespacedMeta(metadata),
    spec: {
      ...(s.targetRef ? { targetRef: { kind: s.targetRef.kind, name: s.targetRef.name } } : {}),
      jwtRules: s.jwtRules.map((x) => Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as unknown as JwtRule),
    },
  });
}
