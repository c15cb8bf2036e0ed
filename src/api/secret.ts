// Parsing a Secret (core v1) of type kubernetes.io/tls: the certificate chain and key a Gateway
// listener terminates TLS with. Checked on apply (PEM, matching key, not expired); the REST API
// never answers the key (see redactSecret).
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { err, ok } from '../common/result.js';
import type { ObjectMeta } from './resource.js';
import { namespacedMetadata, toNamespacedMeta } from './metadata.js';
import { checkDns1123Subdomain } from './names.js';
import type { Problem } from './problem.js';
import { describeValue, formatPath } from './problem.js';
import { checked, closedObject, parseWithSchema } from './schema-kit.js';
import { checkKeyPair } from './tls-key-pair.js';

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';
export const CERT_KEY = 'tls.crt';
export const KEY_KEY = 'tls.key';

export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta & { namespace: string };
  type: typeof TLS_SECRET_TYPE;
  /** Base64 PEM, as in Kubernetes. `tls.key` is absent in what the REST API answers. */
  data: { 'tls.crt': string; 'tls.key'?: string };
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;
const base64Value = checked(z.string(), (v) => (BASE64.test(v) ? undefined : 'must be base64 (the PEM text encoded; use stringData for the PEM text itself)'));
const pair = (value: z.ZodString) => closedObject({ [CERT_KEY]: value.optional(), [KEY_KEY]: value.optional() }, { 'ca.crt': 'client certificate checks are not implemented' });

const secretSchema = closedObject(
  {
    apiVersion: checked(z.string(), (v) => (v === 'v1' ? undefined : `must be "v1" for kind Secret, got ${describeValue(v)}`)),
    kind: z.literal('Secret'),
    metadata: namespacedMetadata(checkDns1123Subdomain),
    type: checked(z.string(), (t) =>
      t === TLS_SECRET_TYPE ? undefined : `must be ${describeValue(TLS_SECRET_TYPE)} (the only Secrets Trellis holds are TLS certificates), got ${describeValue(t)}`,
    ),
    data: pair(base64Value).optional(),
    stringData: pair(z.string()).optional(),
  },
  { immutable: 'Secrets are replaced by applying them again' },
);

/**
 * Parses a TLS Secret into canonical form (`data` only, base64; `stringData` wins over `data`,
 * as in Kubernetes) and checks the pair at `now`: PEM, the key matches the leaf, not expired.
 */
export function parseSecret(raw: unknown, now = new Date()): Result<Secret, Problem[]> {
  const r = parseWithSchema(secretSchema, raw);
  if (!r.ok) return r;
  const { metadata, data, stringData } = r.value;
  const pem = (field: typeof CERT_KEY | typeof KEY_KEY): { text: string; from: 'data' | 'stringData' } | undefined => {
    const s = stringData?.[field];
    if (s !== undefined) return { text: s, from: 'stringData' };
    const d = data?.[field];
    return d === undefined ? undefined : { text: Buffer.from(d, 'base64').toString('utf8'), from: 'data' };
  };
  const cert = pem(CERT_KEY);
  const key = pem(KEY_KEY);
  const problems: Problem[] = [];
  if (!cert) problems.push({ path: formatPath(['data', CERT_KEY]), message: 'required: the PEM certificate chain, leaf first (in data, base64, or in stringData)' });
  if (!key) problems.push({ path: formatPath(['data', KEY_KEY]), message: 'required: the PEM private key of the certificate (in data, base64, or in stringData)' });
  if (cert && key) {
    const where = { [CERT_KEY]: cert.from, [KEY_KEY]: key.from };
    for (const p of checkKeyPair(cert.text, key.text, now).problems) problems.push({ path: formatPath([where[p.field], p.field]), message: p.message });
  }
  if (problems.length > 0) return err(problems);
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return ok({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: toNamespacedMeta(metadata),
    type: TLS_SECRET_TYPE,
    data: { [CERT_KEY]: b64(cert!.text), [KEY_KEY]: b64(key!.text) },
  });
}

/** The Secret without its private key: what the REST API answers (the key goes to gateways over SDS only). */
export function redactSecret(s: Secret): Secret {
  return { ...s, data: { [CERT_KEY]: s.data[CERT_KEY] } };
}
