// POST /api/v1/apply: validate every resource, then create-or-replace them all in one batch (all or nothing).
import { formatKey, resourceKey, type Resource } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { apiError, fromStoreError, type ApiError } from './errors.js';
import type { Reply } from './resource-handlers.js';
import type { ApiProblem, ApplyAction, ApplyResponse, RestApiDeps } from './types.js';
import { describeRaw, labelProblems, validationFailed } from './validation.js';

const ACTIONS: Record<string, ApplyAction> = { created: 'created', updated: 'configured', unchanged: 'unchanged' };

export async function applyResources(deps: RestApiDeps, body: unknown, dryRun: boolean): Promise<Result<Reply, ApiError>> {
  const raws = (body as { resources?: unknown } | null)?.resources;
  if (typeof body !== 'object' || body === null || !Array.isArray(raws)) {
    return err(apiError('BAD_REQUEST', 'the body must be {"resources": [...]}, a JSON object with a list of resources'));
  }
  const problems: ApiProblem[] = [];
  const resources: Resource[] = [];
  const seen = new Map<string, number>();
  raws.forEach((raw, i) => {
    const parsed = deps.parseResource(raw);
    if (!parsed.ok) return void problems.push(...labelProblems(describeRaw(raw, `resources[${i}]`), parsed.error));
    const key = formatKey(resourceKey(parsed.value));
    const first = seen.get(key);
    if (first !== undefined) {
      return void problems.push({ resource: key, path: 'metadata.name', message: `${key} appears twice in one apply (resources[${first}] and resources[${i}])` });
    }
    seen.set(key, i);
    // Apply is "make it so": a resourceVersion in the input (e.g. from `get -o yaml`) is not a precondition.
    resources.push(parsed.value);
  });
  if (problems.length > 0) return err(validationFailed(problems));
  const applied = await deps.store.apply(
    resources.map((resource) => ({ op: 'put', resource })),
    { dryRun },
  );
  if (!applied.ok) return err(fromStoreError(applied.error));
  const response: ApplyResponse = {
    revision: applied.value.revision,
    dryRun,
    results: applied.value.outcomes.map((o) => ({
      kind: o.key.kind,
      ...(o.key.namespace !== undefined ? { namespace: o.key.namespace } : {}),
      name: o.key.name,
      action: ACTIONS[o.action]!,
      resourceVersion: o.resource.metadata.resourceVersion ?? '',
    })),
  };
  return ok({ status: 200, body: response });
}
