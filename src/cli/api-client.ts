// A small client of the control plane's REST API (HTTPS, trusting the mesh roots), answering Results whose errors
// are one clear line each (plus the server's validation problems, if any).
import type { ProxyStatus } from '../api/proxy-status.js';
import type { Command } from 'commander';
import type { Resource, ResourceKey, ResourceKind } from '../api/resource.js';
import { CA_FILE_ENV } from '../common/control-plane-trust.js';
import { trustingFetch } from '../common/trusting-fetch.js';
import { err, ok, type Result } from '../common/result.js';
import { pluralOf } from './resource-kinds.js';

export const DEFAULT_CONTROL_PLANE = 'https://127.0.0.1:15000';
export const CONTROL_PLANE_ENV = 'TRELLIS_CONTROL_PLANE';
/** The operator token (admin or read-only) the CLI sends, unless `--token` is given. */
export const TOKEN_ENV = 'TRELLIS_TOKEN';

/** The control plane's URL: the `--control-plane` flag, else $TRELLIS_CONTROL_PLANE, else the default. */
export function controlPlaneUrl(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return (flag || env[CONTROL_PLANE_ENV] || DEFAULT_CONTROL_PLANE).replace(/\/+$/, '');
}

/** Adds `--control-plane URL` to a command. */
export function addControlPlaneOption(cmd: Command): Command {
  return (
    cmd
      .option('--control-plane <url>', `control plane REST API (default: $${CONTROL_PLANE_ENV} or ${DEFAULT_CONTROL_PLANE})`)
      .option('--token <token>', `operator token (default: $${TOKEN_ENV}); the admin token is printed at the control plane's first start`)
      .option(
        '--ca-file <file>',
        `the mesh trust bundle that verifies the control plane's certificate (default: $${CA_FILE_ENV}, else ./trellis-data/ca/trust-bundle.pem if present)`,
      )
      // Every command builds its client from the environment, so the flags are handed on there.
      .hook('preAction', (c) => {
        const { token, caFile } = c.opts<{ token?: string; caFile?: string }>();
        if (token) process.env[TOKEN_ENV] = token;
        if (caFile) process.env[CA_FILE_ENV] = caFile;
      })
  );
}

// ---- Wire shapes of the REST API (see control-plane/rest-api/types.ts) ----
/** A validation problem the server found. */
export interface ServerProblem {
  resource: string;
  path: string;
  message: string;
}
export interface ApplyResultItem {
  kind: ResourceKind;
  namespace?: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
  resourceVersion: string;
}
export interface ApplyAnswer {
  revision: number;
  dryRun: boolean;
  results: ApplyResultItem[];
}
export interface ClientError {
  /** The server's code (e.g. STORE_NOT_FOUND, VALIDATION_FAILED), or CONNECTION_FAILED / BAD_ANSWER. */
  code: string;
  /** One line. */
  message: string;
  /** HTTP status, when the server answered. */
  status?: number;
  problems?: ServerProblem[];
}

export interface ApiClient {
  readonly baseUrl: string;
  list(kind: ResourceKind, namespace?: string): Promise<Result<Resource[], ClientError>>;
  get(key: ResourceKey): Promise<Result<Resource, ClientError>>;
  /** Creates or replaces every resource in one batch, all or nothing. */
  apply(resources: readonly unknown[], opts?: { dryRun?: boolean }): Promise<Result<ApplyAnswer, ClientError>>;
  /** Deletes one resource; answers its last state. */
  delete(key: ResourceKey): Promise<Result<Resource, ClientError>>;
  proxies(): Promise<Result<ProxyStatus[], ClientError>>;
  /** Any other call of the API (JSON in and out). */
  request<T>(method: string, path: string, body?: unknown): Promise<Result<T, ClientError>>;
}

/** Why fetch failed, from its cause (undici puts the socket error there, sometimes inside an AggregateError). */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

export function connectionProblem(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'no answer in time';
  const cause = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  const code = cause?.code ?? cause?.errors?.find((x) => x.code)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was reset';
  if (code !== undefined && UNTRUSTED_CERTIFICATE.has(code))
    return `its certificate is not trusted (${code}); pass --ca-file (or $${CA_FILE_ENV}) with the mesh trust bundle, <data-dir>/ca/trust-bundle.pem on the control plane's host`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `its certificate does not name this host (${cause?.message ?? code}); use the address the control plane listens on`;
  return code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

export function createApiClient(baseUrl: string, opts: { timeoutMs?: number; token?: string } = {}): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const token = opts.token ?? process.env[TOKEN_ENV];
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const fetch = trustingFetch();

  async function call<T>(method: string, path: string, body?: unknown): Promise<Result<T, ClientError>> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: body !== undefined ? { 'content-type': 'application/json', accept: 'application/json', ...auth } : { accept: 'application/json', ...auth },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const why = connectionProblem(e);
      const hint =
        why === 'connection refused'
          ? ' (is `trellis control-plane` running?)'
          : base.startsWith('http://') && why === 'the connection was reset'
            ? ' (the control plane serves HTTPS: use https://)'
            : '';
      return err({ code: 'CONNECTION_FAILED', message: `cannot reach the control plane at ${base}: ${why}${hint}` });
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return err({
        code: 'BAD_ANSWER',
        status: res.status,
        message: `the control plane at ${base} answered ${method} ${path} with HTTP ${res.status} and a body that is not JSON (is ${base} the REST API?)`,
      });
    }
    if (res.ok) return ok(parsed as T);
    const e = (parsed as { error?: { code?: unknown; message?: unknown; problems?: ServerProblem[] } }).error;
    return err({
      code: typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`,
      status: res.status,
      message: typeof e?.message === 'string' ? e.message : `HTTP ${res.status} from ${method} ${path}`,
      ...(Array.isArray(e?.problems) ? { problems: e.problems } : {}),
    });
  }

  const itemPath = (k: ResourceKey) =>
    `/api/v1/${pluralOf(k.kind)}/` + (k.namespace !== undefined && k.kind !== 'MeshConfig' ? `${encodeURIComponent(k.namespace)}/` : '') + encodeURIComponent(k.name);

  return {
    baseUrl: base,
    async list(kind, namespace) {
      const q = namespace !== undefined ? `?namespace=${encodeURIComponent(namespace)}` : '';
      const r = await call<{ items: Resource[] }>('GET', `/api/v1/${pluralOf(kind)}${q}`);
      return r.ok ? ok(r.value.items) : r;
    },
    get: (key) => call<Resource>('GET', itemPath(key)),
    apply: (resources, o = {}) => call<ApplyAnswer>('POST', `/api/v1/apply${o.dryRun ? '?dryRun=true' : ''}`, { resources }),
    delete: (key) => call<Resource>('DELETE', itemPath(key)),
    request: (method, path, body) => call(method, path, body),
    async proxies() {
      const r = await call<{ items: ProxyStatus[] }>('GET', '/api/v1/proxies');
      return r.ok ? ok(r.value.items) : r;
    },
  };
}
