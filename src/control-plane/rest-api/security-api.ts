// Operator authentication in front of the REST API, and the API's security routes: every path
// but /healthz and the span receiver needs `authorization: Bearer <operator token>` (read-only
// tokens may only GET); sidecars post spans with their workload certificate;
// /api/v1/ca shows and rotates the CA, /api/v1/tokens creates, lists and revokes tokens. Secrets
// appear only once, in the answer that creates a token; nothing here logs one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { uriSans } from '../../common/x509.js';
import type { TokenStore, TokenRole } from '../auth/index.js';
import type { CertificateAuthority } from '../ca/index.js';
import { createLogger } from '../../common/log.js';
import { readJsonBody } from './body.js';
import { checkLabelKey, checkLabelValue } from '../../api/names.js';

const log = createLogger('control-plane.rest-api');

export interface SecurityApiDeps {
  ca: CertificateAuthority;
  tokens: TokenStore;
  /**
   * Paths sidecars call (the span receiver): they authenticate with their workload certificate
   * (a client certificate that chains to the mesh roots and names a SPIFFE ID of this trust
   * domain), or an admin token.
   */
  workloadPaths?: readonly string[];
}

/** The SPIFFE ID of a verified mesh client certificate on this request's connection, if any. */
function workloadPeer(req: IncomingMessage, trustDomain: string): string | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerX509Certificate !== 'function' || !socket.authorized) return undefined;
  const id = uriSans(socket.getPeerX509Certificate()?.subjectAltName)[0];
  return id?.startsWith(`spiffe://${trustDomain}/`) ? id : undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

const fail = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) => send(res, status, { error: { code, message } }, headers);

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds of a `30s|15m|24h|7d` duration or a number of seconds; undefined when absent; a string when invalid. */
function seconds(v: unknown, field: string): number | undefined | string {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? DURATION.exec(v) : null;
  if (m) return Number(m[1]) * UNIT[m[2]!]!;
  return `${field}: must be a duration like 30s, 15m, 24h or 7d (or whole seconds), got ${JSON.stringify(v)}`;
}

/**
 * The labels a join token for `service` allows (`labels` of the request body): undefined when
 * absent; a string when invalid, naming the field, the value and what is expected.
 */
function joinTokenLabels(v: unknown, service: string): Record<string, string> | undefined | string {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return `labels: must be an object of label keys to values, e.g. {"version":"v2"}, got ${JSON.stringify(v)}`;
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(v)) {
    const badKey = checkLabelKey(key);
    if (badKey !== undefined) return `labels[${JSON.stringify(key)}]: ${badKey}`;
    if (typeof value !== 'string') return `labels.${key}: must be a string, got ${JSON.stringify(value)}`;
    const badValue = checkLabelValue(value);
    if (badValue !== undefined) return `labels.${key}: ${badValue}`;
    if (key === 'app' && value !== service) return `labels.app: a join token's app label is always its service ${JSON.stringify(service)}, got ${JSON.stringify(value)}`;
    labels[key] = value;
  }
  return labels;
}

/** Wraps the REST API: authenticates operators and serves the CA and token routes. */
export function securedRestApi(inner: Handler, deps: SecurityApiDeps): Handler {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://trellis.invalid');
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz') return inner(req, res);
    const header = req.headers.authorization;
    const token = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (deps.workloadPaths?.includes(url.pathname.replace(/\/+$/, ''))) {
      if (workloadPeer(req, deps.ca.trustDomain) !== undefined || deps.tokens.verify(token, ['admin']).ok) return inner(req, res);
      req.resume();
      return fail(res, 401, 'UNAUTHENTICATED', `${url.pathname} takes a sidecar's workload certificate (a TLS client certificate from the mesh CA) or an admin token`, {
        'www-authenticate': 'Bearer',
      });
    }
    const auth = deps.tokens.verify(token, ['admin', 'read-only']);
    if (!auth.ok) {
      req.resume();
      const hint = token === undefined ? ' (pass --token or set TRELLIS_TOKEN; the admin token was printed at the first start)' : '';
      return fail(res, 401, 'UNAUTHENTICATED', auth.error.message + hint, { 'www-authenticate': 'Bearer' });
    }
    if (auth.value.role === 'read-only' && method !== 'GET') {
      req.resume();
      return fail(res, 403, 'FORBIDDEN', `the token ${auth.value.id} is read-only: ${method} ${url.pathname} needs an admin token`);
    }
    const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1);
    if (parts[0] !== 'api' || parts[1] !== 'v1' || (parts[2] !== 'ca' && parts[2] !== 'tokens')) return inner(req, res);
    serve(deps, req, res, method, parts.slice(2)).catch((e: unknown) => {
      log.error({ err: e, method, path: url.pathname }, 'the security API failed on a request');
      if (!res.headersSent) fail(res, 500, 'INTERNAL', `internal error: ${e instanceof Error ? e.message : String(e)}`);
    });
  };
}

async function serve(deps: SecurityApiDeps, req: IncomingMessage, res: ServerResponse, method: string, p: string[]): Promise<void> {
  const notAllowed = (allowed: string) => {
    req.resume();
    fail(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on /api/v1/${p.join('/')}; allowed: ${allowed}`, { allow: allowed });
  };
  const body = async (): Promise<Record<string, unknown> | undefined> => {
    const r = await readJsonBody(req, 64 * 1024);
    if (!r.ok) return void fail(res, r.error.status, r.error.code, r.error.message);
    if (r.value === undefined || r.value === null) return {};
    if (typeof r.value !== 'object' || Array.isArray(r.value)) return void fail(res, 400, 'BAD_REQUEST', 'the request body must be a JSON object');
    return r.value as Record<string, unknown>;
  };
  if (p[0] === 'ca' && p.length === 1) {
    if (method !== 'GET') return notAllowed('GET');
    return send(res, 200, { ...deps.ca.status(), trustBundle: deps.ca.trustBundlePem() });
  }
  if (p[0] === 'ca' && p[1] === 'rotate' && p.length === 2) {
    if (method !== 'POST') return notAllowed('POST');
    const b = await body();
    if (!b) return;
    const overlap = seconds(b.overlap, 'overlap');
    if (typeof overlap === 'string') return fail(res, 400, 'BAD_REQUEST', overlap);
    const r = await deps.ca.rotate(overlap);
    if (!r.ok) return fail(res, 500, r.error.code, r.error.message);
    log.info({ overlapSeconds: overlap }, 'rotated the mesh root');
    return send(res, 200, r.value);
  }
  if (p[0] === 'tokens' && p.length === 1) {
    if (method === 'GET') return send(res, 200, { items: deps.tokens.list() });
    if (method !== 'POST') return notAllowed('GET, POST');
    const b = await body();
    if (!b) return;
    const role = (b.role ?? 'join') as TokenRole;
    if (role !== 'join' && role !== 'read-only') return fail(res, 400, 'BAD_REQUEST', `role: must be join or read-only, got ${JSON.stringify(b.role)}`);
    const name = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    if (role === 'join' && (typeof b.service !== 'string' || !name.test(b.service))) {
      return fail(res, 400, 'BAD_REQUEST', `service: a join token needs the service it is for (a DNS label), got ${JSON.stringify(b.service)}`);
    }
    if (b.namespace !== undefined && (typeof b.namespace !== 'string' || !name.test(b.namespace))) {
      return fail(res, 400, 'BAD_REQUEST', `namespace: must be a DNS label, got ${JSON.stringify(b.namespace)}`);
    }
    if (role !== 'join' && b.labels !== undefined) return fail(res, 400, 'BAD_REQUEST', `labels: only join tokens carry labels, got them on a ${role} token`);
    const labels = role === 'join' ? joinTokenLabels(b.labels, b.service as string) : undefined;
    if (typeof labels === 'string') return fail(res, 400, 'BAD_REQUEST', labels);
    const ttl = seconds(b.ttl, 'ttl');
    if (typeof ttl === 'string') return fail(res, 400, 'BAD_REQUEST', ttl);
    const join = { service: b.service as string, namespace: b.namespace ?? 'default', ...(labels !== undefined ? { labels } : {}) };
    const created = await deps.tokens.create(role, { ...(role === 'join' ? join : {}), ...(ttl ? { ttlSeconds: ttl } : {}) });
    log.info({ token: created.info.id, role, service: created.info.service }, 'created a token');
    return send(res, 201, created);
  }
  if (p[0] === 'tokens' && p.length === 2) {
    if (method !== 'DELETE') return notAllowed('DELETE');
    req.resume();
    const r = await deps.tokens.revoke(p[1]!);
    if (!r.ok) return fail(res, 404, r.error.code, r.error.message);
    log.info({ token: r.value.id }, 'revoked a token');
    return send(res, 200, r.value);
  }
  req.resume();
  fail(res, 404, 'NOT_FOUND', `no route for /api/v1/${p.join('/')}: expected /api/v1/ca, /api/v1/ca/rotate, /api/v1/tokens or /api/v1/tokens/{id}`);
}
