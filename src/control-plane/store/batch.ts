// Planning a batch against the current state (pure: checks every change, decides the new stored
// forms) and applying a committed batch record to the state. Used by commit and by log replay alike.
import type { Resource, ResourceKey } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { alreadyExists, conflict, duplicateChange, notFound, type StoreError } from './errors.js';
import { keyOfResource, keyString, normalizeKey } from './keys.js';
import { deepFreeze, rfc3339, sameUserContent, storedForm } from './resource-content.js';
import type { Change, ChangeOutcome, WatchEvent } from './store.js';

/** One change as committed: puts carry the full stored form. */
export type LoggedOp = { op: 'put'; resource: Resource } | { op: 'delete'; key: ResourceKey };

/** A committed batch: what the log holds, one record per revision. */
export interface BatchRecord {
  revision: number;
  /** When it was committed (RFC 3339). */
  time: string;
  ops: LoggedOp[];
}

export interface BatchPlan {
  /** Absent when nothing would change (every change `unchanged`): no revision is used. */
  record?: BatchRecord;
  outcomes: ChangeOutcome[];
  events: WatchEvent[];
}

/** Checks every change against `current` (at `revision`) and plans the next revision; all or nothing. */
export function planBatch(current: ReadonlyMap<string, Resource>, revision: number, changes: readonly Change[], now: Date): Result<BatchPlan, StoreError> {
  const next = revision + 1;
  const version = String(next);
  const time = rfc3339(now);
  const seen = new Set<string>();
  const ops: LoggedOp[] = [];
  const outcomes: ChangeOutcome[] = [];
  const events: WatchEvent[] = [];
  for (const change of changes) {
    const key = change.op === 'put' ? keyOfResource(change.resource) : normalizeKey(change.key);
    const id = keyString(key);
    if (seen.has(id)) return err(duplicateChange(key));
    seen.add(id);
    const existing = current.get(id);
    const actual = existing?.metadata.resourceVersion ?? '';
    if (change.op === 'delete') {
      if (!existing) return err(notFound(key, change.expectedVersion));
      if (change.expectedVersion !== undefined && change.expectedVersion !== actual) return err(conflict(key, change.expectedVersion, actual));
      const last = storedForm(existing, version, existing.metadata.creationTimestamp ?? time);
      ops.push({ op: 'delete', key });
      outcomes.push({ key, action: 'deleted', resource: last });
      events.push({ type: 'DELETED', resource: last, revision: next });
      continue;
    }
    const mode = change.mode ?? 'upsert';
    if (mode === 'create' && existing) return err(alreadyExists(key, actual));
    if (!existing && (mode === 'replace' || change.expectedVersion !== undefined)) return err(notFound(key, change.expectedVersion));
    if (existing && change.expectedVersion !== undefined && change.expectedVersion !== actual) return err(conflict(key, change.expectedVersion, actual));
    if (existing && sameUserContent(existing, change.resource)) {
      outcomes.push({ key, action: 'unchanged', resource: existing });
      continue;
    }
    const stored = storedForm(change.resource, version, existing?.metadata.creationTimestamp ?? time);
    ops.push({ op: 'put', resource: stored });
    outcomes.push({ key, action: existing ? 'updated' : 'created', resource: stored });
    events.push({ type: existing ? 'MODIFIED' : 'ADDED', resource: stored, revision: next });
  }
  if (ops.length === 0) return ok({ outcomes, events });
  return ok({ record: { revision: next, time, ops }, outcomes, events });
}

/** Applies a committed record to `state` (resources in records are already in stored form). */
export function applyRecord(state: Map<string, Resource>, record: BatchRecord): void {
  for (const op of record.ops) {
    if (op.op === 'put') state.set(keyString(keyOfResource(op.resource)), deepFreeze(op.resource));
    else state.delete(keyString(op.key));
  }
}
