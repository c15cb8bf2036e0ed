// The control plane's REST API as a node:http request handler (JSON in, JSON out). The caller owns
// the server: `http.createServer(createRestApi({ store, parseResource, proxies }))`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLogger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import { applyResources } from './apply-handler.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './body.js';
import { SNAPSHOT_FORMAT } from '../store/snapshot.js';
import { apiError, type ApiError } from './errors.js';
import { createResource, deleteResource, getResource, listResources, replaceResource, type Reply } from './resource-handlers.js';
import { matchRoute, type Route } from './routes.js';
import type { ApiErrorBody, RestApiDeps } from './types.js';

const log = createLogger('control-plane.rest-api');

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function sendError(res: ServerResponse, e: ApiError): void {
  const body: ApiErrorBody = { error: { code: e.code, message: e.message, ...(e.problems ? { problems: e.problems } : {}) } };
  send(res, e.status, body, e.headers);
}

function flag(url: URL, name: string): Result<boolean, ApiError> {
  const v = url.searchParams.get(name);
  if (v === null || v === 'false' || v === '0') return ok(false);
  if (v === 'true' || v === '1' || v === 'All') return ok(true);
  return err(apiError('BAD_REQUEST', `query parameter ${name}=${v} is not valid: expected true or false`));
}

async function handle(deps: Required<Pick<RestApiDeps, 'maxBodyBytes'>> & RestApiDeps, req: IncomingMessage, url: URL, route: Route): Promise<Result<Reply, ApiError>> {
  const method = req.method ?? 'GET';
  const dryRun = flag(url, 'dryRun');
  if (!dryRun.ok) return dryRun;
  const body = async () => readJsonBody(req, deps.maxBodyBytes);
  switch (route.route) {
    case 'healthz': {
      const health = deps.store.health();
      return health.ok
        ? ok({ status: 200, body: { status: 'ok', revision: deps.store.revision() } })
        : err(apiError('STORE_UNAVAILABLE', `the store is unavailable: ${health.reason ?? 'unknown reason'}`));
    }
    case 'proxies':
      return ok({ status: 200, body: { items: deps.proxies?.() ?? [] } });
    case 'backup': {
      req.resume();
      // One list is one committed revision: every batch in it is durable, none is half in it.
      const { items, revision } = await deps.store.list();
      log.info({ revision, resources: items.length }, 'store backup taken');
      return ok({ status: 200, body: { format: SNAPSHOT_FORMAT, revision, resources: items } });
    }
    case 'apply': {
      const raw = await body();
      return raw.ok ? applyResources(deps, raw.value, dryRun.value) : raw;
    }
    case 'collection': {
      if (method === 'GET') return listResources(deps, route.kind, url.searchParams.get('namespace') || undefined);
      const raw = await body();
      return raw.ok ? createResource(deps, route, raw.value, url.pathname, dryRun.value) : raw;
    }
    case 'item': {
      if (method === 'GET') return getResource(deps, route);
      if (method === 'DELETE') return deleteResource(deps, route, url.searchParams.get('resourceVersion') ?? undefined, dryRun.value);
      const raw = await body();
      return raw.ok ? replaceResource(deps, route, raw.value, url.pathname, dryRun.value) : raw;
    }
  }
}

/** A request handler serving the REST API (see routes.ts for the paths). */
export function createRestApi(deps: RestApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const full = { ...deps, maxBodyBytes: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES };
  return (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://trellis.invalid');
    const method = req.method ?? 'GET';
    const route = matchRoute(method, url.pathname);
    const done = route.ok ? handle(full, req, url, route.value) : Promise.resolve(route);
    done
      .then((r) => {
        // An error answered before the body was read: the rest of the body is discarded.
        if (!r.ok) {
          if (!req.complete) req.resume();
          sendError(res, r.error);
        } else send(res, r.value.status, r.value.body);
        log.debug({ method, path: url.pathname, status: res.statusCode, ms: Date.now() - started }, 'request');
      })
      .catch((e: unknown) => {
        log.error({ err: e, method, path: url.pathname }, 'the REST API failed on a request');
        sendError(res, apiError('INTERNAL', `internal error: ${e instanceof Error ? e.message : String(e)}`));
      });
  };
}
