// The parts every resource shares: the apiVersion/kind/metadata/spec envelope and metadata (names, namespace, labels).
import { z } from 'zod';
import type { ObjectMeta, ResourceKind } from './resource.js';
import { checkDns1123Label, checkLabelKey, checkLabelValue } from './names.js';
import { describeValue } from './problem.js';
import { checked, closedObject, stringMap } from './schema-kit.js';

/** The namespace a namespaced resource gets when its metadata names none. */
export const DEFAULT_NAMESPACE = 'default';

// Fields Kubernetes puts in metadata that mean nothing to Trellis: accepted (so `kubectl get -o yaml`
// output can be applied) and dropped. creationTimestamp is the store's to set.
const IGNORED_METADATA = [
  'uid',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'finalizers',
  'ownerReferences',
  'generateName',
] as const;
const ignoredFields = Object.fromEntries(IGNORED_METADATA.map((k) => [k, z.unknown().optional()])) as Record<(typeof IGNORED_METADATA)[number], z.ZodOptional<z.ZodUnknown>>;

/** A label map (metadata.labels, spec.selector): Kubernetes label syntax for keys and values. */
export const labelMap = () => stringMap(checkLabelKey, checkLabelValue);

// The store sets resourceVersion; clients send it back for optimistic concurrency. YAML may
// turn an unquoted `42` into a number, which means the same thing.
const resourceVersion = checked(z.unknown(), (v) =>
  v === undefined || (typeof v === 'string' && /^\d+$/.test(v)) || (Number.isSafeInteger(v) && (v as number) >= 0)
    ? undefined
    : `must be a decimal string (the store's revision), got ${describeValue(v)}`,
).optional();

const namespaceField = checked(z.string(), checkDns1123Label);

function metadataShape(checkName: (name: string) => string | undefined) {
  return {
    name: checked(z.string(), checkName),
    labels: labelMap().optional(),
    annotations: stringMap(checkLabelKey, () => undefined).optional(),
    resourceVersion,
    ...ignoredFields,
  };
}

/** Metadata of a namespaced kind; `namespace` defaults to {@link DEFAULT_NAMESPACE}. */
export function namespacedMetadata(checkName: (name: string) => string | undefined) {
  return closedObject({ ...metadataShape(checkName), namespace: namespaceField.default(DEFAULT_NAMESPACE) });
}

/** Metadata of a cluster-scoped kind: a namespace is refused rather than silently dropped. */
export function clusterMetadata(kind: ResourceKind, checkName: (name: string) => string | undefined) {
  const namespace = checked(z.unknown(), (v) => (v === undefined ? undefined : `must not be set: ${kind} is not namespaced, got ${describeValue(v)}`)).optional();
  return closedObject({ ...metadataShape(checkName), namespace });
}

type ParsedMetadata = {
  name: string;
  namespace?: unknown;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: unknown;
};

/** The canonical metadata: only the fields Trellis keeps, no `undefined` entries. */
export function toObjectMeta(m: ParsedMetadata): ObjectMeta {
  const out: ObjectMeta = { name: m.name };
  if (typeof m.namespace === 'string') out.namespace = m.namespace;
  if (m.labels !== undefined) out.labels = m.labels;
  if (m.annotations !== undefined) out.annotations = m.annotations;
  if (m.resourceVersion !== undefined) out.resourceVersion = String(m.resourceVersion);
  return out;
}

/** {@link toObjectMeta} for namespaced kinds, whose parsed metadata always has a namespace. */
export const toNamespacedMeta = (m: ParsedMetadata & { namespace: string }): ObjectMeta & { namespace: string } => toObjectMeta(m) as ObjectMeta & { namespace: string };

/**
 * The resource envelope. `apiVersions[0]` is the canonical version; the others are accepted
 * aliases. `status` is accepted and ignored (it is the control plane's to report).
 */
export function envelope<M extends z.ZodType, S extends z.ZodType>(kind: ResourceKind, apiVersions: readonly string[], metadata: M, spec: S) {
  const expected = apiVersions.map((v) => describeValue(v)).join(' or ');
  return closedObject({
    apiVersion: checked(z.string(), (v) => (apiVersions.includes(v) ? undefined : `must be ${expected} for kind ${kind}, got ${describeValue(v)}`)),
    kind: z.literal(kind),
    metadata,
    spec,
    status: z.unknown().optional(),
  });
}
