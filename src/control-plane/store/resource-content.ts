// What the store keeps of a resource: a frozen plain-JSON copy with the server fields set,
// and equality "as the user wrote it" (server fields ignored) to detect unchanged applies.
import { isDeepStrictEqual } from 'node:util';
import { CLUSTER_SCOPED_KINDS, type Resource } from '../../api/resource.js';

/** Deep-freezes a plain JSON value. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/** A plain JSON copy (drops `undefined` fields, so equality does not depend on them). */
export const jsonCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The resource as the user controls it: a copy without resourceVersion and creationTimestamp. */
export function userContent(r: Resource): Resource {
  const copy = jsonCopy(r);
  delete copy.metadata.resourceVersion;
  delete copy.metadata.creationTimestamp;
  // Cluster-scoped kinds have no namespace, whatever the input said.
  if (CLUSTER_SCOPED_KINDS.includes(copy.kind)) delete copy.metadata.namespace;
  return copy;
}

/** True when `a` and `b` differ in server fields at most. */
export const sameUserContent = (a: Resource, b: Resource): boolean => isDeepStrictEqual(userContent(a), userContent(b));

/** The frozen stored form of `r`: user content plus the server fields. */
export function storedForm(r: Resource, resourceVersion: string, creationTimestamp: string): Resource {
  const copy = userContent(r);
  copy.metadata.resourceVersion = resourceVersion;
  copy.metadata.creationTimestamp = creationTimestamp;
  return deepFreeze(copy);
}

/** RFC 3339 at whole seconds, as Kubernetes writes creationTimestamp. */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
