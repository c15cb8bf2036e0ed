// Turning raw request documents into resources: the parser's problems, labelled with the resource
// they belong to, and the check that a body agrees with the path it was sent to.
import type { Problem } from '../../api/problem.js';
import { CLUSTER_SCOPED_KINDS, formatKey, type Resource, type ResourceKind } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { apiError, type ApiError } from './errors.js';
import type { ApiProblem, RestApiDeps } from './types.js';

/** `Kind namespace/name` from a raw document when it says so (for labelling problems), else `fallback`. */
export function describeRaw(raw: unknown, fallback: string): string {
  if (typeof raw !== 'object' || raw === null) return fallback;
  const { kind, metadata } = raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof kind !== 'string' || typeof metadata?.name !== 'string') return fallback;
  if ((CLUSTER_SCOPED_KINDS as readonly string[]).includes(kind)) return `${kind} ${metadata.name}`;
  return `${kind} ${typeof metadata.namespace === 'string' ? metadata.namespace : 'default'}/${metadata.name}`;
}

export const labelProblems = (resource: string, problems: readonly Problem[]): ApiProblem[] => problems.map((p) => ({ resource, path: p.path, message: p.message }));

export function validationFailed(problems: ApiProblem[]): ApiError {
  const n = new Set(problems.map((p) => p.resource)).size;
  return apiError('VALIDATION_FAILED', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${n} resource${n === 1 ? '' : 's'}; nothing was stored`, { problems });
}

/** Parses one request body; its problems are a 400. */
export function parseBody(deps: RestApiDeps, raw: unknown): Result<Resource, ApiError> {
  const parsed = deps.parseResource(raw);
  if (parsed.ok) return parsed;
  return err(validationFailed(labelProblems(describeRaw(raw, 'the request body'), parsed.error)));
}

/** A namespaced body without a namespace takes the path's (as kubectl does), so it can be checked against the path. */
export function withPathNamespace(raw: unknown, namespace: string | undefined): unknown {
  if (namespace === undefined || typeof raw !== 'object' || raw === null) return raw;
  const metadata = (raw as { metadata?: unknown }).metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || 'namespace' in metadata) return raw;
  const kind = (raw as { kind?: unknown }).kind;
  if (typeof kind === 'string' && (CLUSTER_SCOPED_KINDS as readonly string[]).includes(kind)) return raw;
  return { ...raw, metadata: { ...metadata, namespace } };
}

/** The 400 when the body's kind, namespace or name differ from the path's. */
export function checkAgainstPath(r: Resource, path: { kind: ResourceKind; namespace?: string; name?: string }, url: string): Result<Resource, ApiError> {
  const mismatch = (what: string, body: string, expected: string) =>
    err(
      apiError(
        'PATH_MISMATCH',
        `the body is ${formatKey({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name })}, but ${url} is for ${what} ${JSON.stringify(expected)} (the body says ${JSON.stringify(body)})`,
      ),
    );
  if (r.kind !== path.kind) return mismatch('kind', r.kind, path.kind);
  if (path.namespace !== undefined && r.metadata.namespace !== path.namespace) return mismatch('namespace', r.metadata.namespace ?? '', path.namespace);
  if (path.name !== undefined && r.metadata.name !== path.name) return mismatch('name', r.metadata.name, path.name);
  return ok(r);
}
