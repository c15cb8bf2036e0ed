// One resource at a time: list, get, create (POST), replace (PUT), delete.
import type { Resource, ResourceKind } from '../../api/resource.js';
import { redactSecret } from '../../api/secret.js';
import { CLUSTER_SCOPED_KINDS } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { fromStoreError, type ApiError } from './errors.js';
import type { Route } from './routes.js';
import type { ResourceList, RestApiDeps } from './types.js';
import { checkAgainstPath, parseBody, withPathNamespace } from './validation.js';

/** A successful answer. */
export interface Reply {
  status: number;
  body: unknown;
}

type ItemRoute = Extract<Route, { route: 'item' }>;

/** A resource as the API answers it: a Secret without its key, a Gateway API kind with its computed status. */
export function present(deps: RestApiDeps, r: Resource): Resource | (Resource & { status: object }) {
  if (r.kind === 'Secret') return redactSecret(r);
  const status = deps.statusOf?.(r);
  return status ? { ...r, status } : r;
}

const itemKey = (r: ItemRoute) => ({ kind: r.kind, name: r.name, ...(r.namespace !== undefined ? { namespace: r.namespace } : {}) });

export async function listResources(deps: RestApiDeps, kind: ResourceKind, namespace: string | undefined): Promise<Result<Reply, ApiError>> {
  const ns = CLUSTER_SCOPED_KINDS.includes(kind) ? undefined : namespace;
  const { items, revision } = await deps.store.list(kind, ns);
  const body: ResourceList = { kind: `${kind}List`, metadata: { resourceVersion: String(revision) }, items: items.map((r) => present(deps, r)) };
  return ok({ status: 200, body });
}

export async function getResource(deps: RestApiDeps, route: ItemRoute): Promise<Result<Reply, ApiError>> {
  const got = await deps.store.get(itemKey(route));
  return got.ok ? ok({ status: 200, body: present(deps, got.value) }) : err(fromStoreError(got.error));
}

/** POST: the resource MUST NOT exist yet. */
export async function createResource(
  deps: RestApiDeps,
  route: Extract<Route, { route: 'collection' }>,
  raw: unknown,
  url: string,
  dryRun: boolean,
): Promise<Result<Reply, ApiError>> {
  const parsed = parseBody(deps, raw);
  if (!parsed.ok) return parsed;
  const checked = checkAgainstPath(parsed.value, { kind: route.kind }, url);
  if (!checked.ok) return checked;
  const applied = await deps.store.apply([{ op: 'put', resource: checked.value, mode: 'create' }], { dryRun });
  if (!applied.ok) return err(fromStoreError(applied.error));
  return ok({ status: 201, body: present(deps, applied.value.outcomes[0]!.resource) });
}

/** PUT: the resource MUST exist; a `metadata.resourceVersion` in the body MUST be the current one. */
export async function replaceResource(deps: RestApiDeps, route: ItemRoute, raw: unknown, url: string, dryRun: boolean): Promise<Result<Reply, ApiError>> {
  const parsed = parseBody(deps, withPathNamespace(raw, route.namespace));
  if (!parsed.ok) return parsed;
  const checked = checkAgainstPath(parsed.value, route, url);
  if (!checked.ok) return checked;
  const expectedVersion = checked.value.metadata.resourceVersion;
  const applied = await deps.store.apply([{ op: 'put', resource: checked.value, mode: 'replace', ...(expectedVersion !== undefined ? { expectedVersion } : {}) }], { dryRun });
  if (!applied.ok) return err(fromStoreError(applied.error));
  return ok({ status: 200, body: present(deps, applied.value.outcomes[0]!.resource) });
}

/** DELETE, optionally only if the resource is still at `expectedVersion` (`?resourceVersion=`). Answers its last state. */
export async function deleteResource(deps: RestApiDeps, route: ItemRoute, expectedVersion: string | undefined, dryRun: boolean): Promise<Result<Reply, ApiError>> {
  const applied = await deps.store.apply([{ op: 'delete', key: itemKey(route), ...(expectedVersion !== undefined ? { expectedVersion } : {}) }], { dryRun });
  if (!applied.ok) return err(fromStoreError(applied.error));
  return ok({ status: 200, body: present(deps, applied.value.outcomes[0]!.resource) });
}
