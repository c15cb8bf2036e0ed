// Resource identity inside the store: one string key per resource, cluster-scoped kinds without namespace.
import { CLUSTER_SCOPED_KINDS, type Resource, type ResourceKey } from '../../api/resource.js';

/** The key with the namespace dropped for cluster-scoped kinds (so `MeshConfig default` is one resource however it is named). */
export function normalizeKey(key: ResourceKey): ResourceKey {
  if (CLUSTER_SCOPED_KINDS.includes(key.kind)) return { kind: key.kind, name: key.name };
  return { kind: key.kind, namespace: key.namespace ?? 'default', name: key.name };
}

/** The key of a resource, normalized. */
export const keyOfResource = (r: Resource): ResourceKey => normalizeKey({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name });

/** `Kind/namespace/name` (empty namespace for cluster-scoped kinds); sorts by kind, namespace, name. */
export function keyString(key: ResourceKey): string {
  const k = normalizeKey(key);
  return `${k.kind}/${k.namespace ?? ''}/${k.name}`;
}
