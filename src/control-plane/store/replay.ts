// The state a data dir holds: the snapshot's resources with the log's later records applied in
// revision order. A record missing in between is corruption, never skipped.
import type { Resource } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { applyRecord } from './batch.js';
import type { LoggedRecord } from './batch-log.js';
import { storeCorrupt, type StoreError } from './errors.js';
import { keyOfResource, keyString } from './keys.js';
import type { SnapshotData } from './snapshot.js';

export interface ReplayedState {
  state: Map<string, Resource>;
  revision: number;
  /** Log records applied on top of the snapshot. */
  replayed: number;
}

/** Applies `records` (of the log `logFile`) after `snapshot`; records at or below its revision are skipped (the log was not yet emptied). */
export function replayLog(snapshot: SnapshotData | undefined, records: readonly LoggedRecord[], logFile: string): Result<ReplayedState, StoreError> {
  const state = new Map<string, Resource>();
  let revision = snapshot?.revision ?? 0;
  for (const r of snapshot?.resources ?? []) state.set(keyString(keyOfResource(r)), r);
  let replayed = 0;
  for (const [i, { record, start }] of records.entries()) {
    if (record.revision <= revision) continue;
    if (record.revision !== revision + 1) {
      return err(
        storeCorrupt(
          { file: logFile, offset: start, record: i + 1, revision: record.revision },
          `the log jumps from revision ${revision} to ${record.revision}; expected ${revision + 1} (a record is missing)`,
          { wayOut: 'restore-or-repair' },
        ),
      );
    }
    applyRecord(state, record);
    revision = record.revision;
    replayed++;
  }
  return ok({ state, revision, replayed });
}
