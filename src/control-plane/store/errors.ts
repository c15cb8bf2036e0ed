// The store's error catalog: every expected failure of a Store is one of these codes.
import path from 'node:path';
import { formatKey, type ResourceKey } from '../../api/resource.js';

/** Stable codes; clients (REST API, CLI) may match on them. */
export type StoreErrorCode =
  /** The resource's version is not the one the change expected. */
  | 'STORE_CONFLICT'
  /** A replace or delete named a resource that does not exist. */
  | 'STORE_NOT_FOUND'
  /** A create named a resource that already exists. */
  | 'STORE_ALREADY_EXISTS'
  /** One batch changes the same resource twice. */
  | 'STORE_DUPLICATE_CHANGE'
  /** A watch asked for events older than the history the store keeps: list again, then watch from the list's revision. */
  | 'STORE_WATCH_EXPIRED'
  /** Another control plane holds the data directory. */
  | 'STORE_LOCKED'
  /** The data on disk is damaged (anything but a torn tail, which is cut): the store refuses to open and leaves the file as it is. */
  | 'STORE_CORRUPT'
  /** A restore was asked into a data directory that already holds a store (without --force). */
  | 'STORE_NOT_EMPTY'
  /** Reading or writing the disk failed; the store refuses further changes. */
  | 'STORE_IO'
  /** The store was closed. */
  | 'STORE_CLOSED';

export interface StoreError {
  code: StoreErrorCode;
  /** One line: what failed, the values involved, what was expected. */
  message: string;
  key?: ResourceKey;
  expectedVersion?: string;
  actualVersion?: string;
  /** STORE_CORRUPT: the damaged file, where in it, and which record (1-based) and revision, when known. */
  file?: string;
  offset?: number;
  record?: number;
  revision?: number;
  /** STORE_CORRUPT: the message without the advice on what to do (for reports that list several). */
  summary?: string;
  cause?: unknown;
}

export const conflict = (key: ResourceKey, expectedVersion: string, actualVersion: string): StoreError => ({
  code: 'STORE_CONFLICT',
  message: `${formatKey(key)} has resourceVersion ${actualVersion}, but the change expected ${expectedVersion} (it was changed meanwhile; get it again and retry)`,
  key,
  expectedVersion,
  actualVersion,
});

export const notFound = (key: ResourceKey, expectedVersion?: string): StoreError => ({
  code: 'STORE_NOT_FOUND',
  message: `${formatKey(key)} not found` + (expectedVersion !== undefined ? ` (the change expected resourceVersion ${expectedVersion})` : ''),
  key,
  ...(expectedVersion !== undefined ? { expectedVersion } : {}),
});

export const alreadyExists = (key: ResourceKey, actualVersion: string): StoreError => ({
  code: 'STORE_ALREADY_EXISTS',
  message: `${formatKey(key)} already exists (resourceVersion ${actualVersion}); replace or apply it instead of creating it`,
  key,
  actualVersion,
});

export const duplicateChange = (key: ResourceKey): StoreError => ({
  code: 'STORE_DUPLICATE_CHANGE',
  message: `the batch changes ${formatKey(key)} more than once; expected at most one change per resource`,
  key,
});

export const watchExpired = (fromRevision: number, oldest: number): StoreError => ({
  code: 'STORE_WATCH_EXPIRED',
  message: `cannot watch from revision ${fromRevision}: the store keeps events after revision ${oldest} only; list again and watch from the list's revision`,
});

export const storeLocked = (dataDir: string, pid: number, lockFile: string): StoreError => ({
  code: 'STORE_LOCKED',
  message: `data directory ${dataDir} is in use by another control plane (pid ${pid}${pid === process.pid ? ', this process' : ''}; lock file ${lockFile}); stop it or use another data directory (if that pid is not a control plane, delete the lock file)`,
});

/** Where the damage is: the file, and (when known) the byte offset, the record (1-based) and its revision. */
export interface CorruptionSite {
  file: string;
  offset?: number;
  record?: number;
  revision?: number;
}

/**
 * The damage, where it is, that nothing was changed, and the operator's ways out (docs/operations.md):
 * `restore` a backup; also `repair` (keep the records before the damage) for the log; `none` for a file outside a data dir.
 */
export const storeCorrupt = (site: CorruptionSite, problem: string, opts: { cause?: unknown; wayOut?: 'restore' | 'restore-or-repair' | 'none' } = {}): StoreError => {
  const where = [
    site.offset !== undefined ? `at byte ${site.offset}` : '',
    site.record !== undefined ? `record ${site.record}` : '',
    site.revision !== undefined ? `revision ${site.revision}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const dir = path.dirname(site.file);
  const wayOut = opts.wayOut ?? 'restore';
  const advice =
    wayOut === 'none'
      ? ''
      : `. Nothing was changed on disk. See every problem with \`trellis store verify --data-dir ${dir}\`; then restore a backup (\`trellis store restore --from BACKUP --data-dir ${dir} --force\`)` +
        (wayOut === 'restore-or-repair'
          ? ` or keep only the records before the damage (\`trellis store repair --truncate-at-corruption --data-dir ${dir}\`, which keeps a copy of the original)`
          : '');
  const summary = `${site.file} is damaged${where ? ` (${where})` : ''}: ${problem}`;
  return {
    code: 'STORE_CORRUPT',
    message: `${summary}${advice}`,
    summary,
    ...site,
    ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
  };
};

export const storeNotEmpty = (dataDir: string): StoreError => ({
  code: 'STORE_NOT_EMPTY',
  message: `data directory ${dataDir} already holds a store (snapshot.trellis or a non-empty batches.log); give --force to move those files aside into ${dataDir}/replaced-<time>/ and restore over them`,
});

export const storeIo = (what: string, cause: unknown): StoreError => ({
  code: 'STORE_IO',
  message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
  cause,
});

export const storeClosed = (): StoreError => ({ code: 'STORE_CLOSED', message: 'the store is closed' });
