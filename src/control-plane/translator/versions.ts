// Versions of xDS resource types: a short hash of the canonical JSON of the type's
// resources, so the same config always has the same version (also across restarts).
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

// Resources are immutable and shared between proxies' snapshots, so each is hashed once.
const hashes = new WeakMap<object, string>();

/** The sha256 (hex) of a resource's canonical JSON, cached per object. */
export function resourceHash(resource: object): string {
  let h = hashes.get(resource);
  if (h === undefined) hashes.set(resource, (h = createHash('sha256').update(canonicalJson(resource)).digest('hex')));
  return h;
}

// Snapshot maps are never changed once built, and the endpoints map is shared by every snapshot of an input.
const versions = new WeakMap<ReadonlyMap<string, object>, string>();

/** The version of one type: 16 hex digits over the names and hashes of its resources, in name order. */
export function typeVersion(resources: ReadonlyMap<string, object>): string {
  let v = versions.get(resources);
  if (v !== undefined) return v;
  const hash = createHash('sha256');
  for (const name of [...resources.keys()].sort()) hash.update(`${name}\0${resourceHash(resources.get(name)!)}\n`);
  versions.set(resources, (v = hash.digest('hex').slice(0, 16)));
  return v;
}
