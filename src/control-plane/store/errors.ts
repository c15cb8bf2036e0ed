// The store's error catalog: every expected failure of a Store is one of these codes.
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
  /** The data on disk cannot be read back (not a torn tail, which is repaired). */
  | 'STORE_CORRUPT'
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
  cause?: unknown;
}

export const conflict = (key: ResourceKey, expectedVersion: string, actualVersion: string): StoreError => ({
  code: 'STORE_CONFLICT',
  message: `${formatKey(key)} has resourceVersion ${actualVersion}, but the change expected ${expectedVersion} (it was changed meanwhile; get it again and retry)`,
  key, expectedVersion, actualVersion,
});

export const notFound = (key: ResourceKey, expectedVersion?: string): StoreError => ({
  code: 'STORE_NOT_FOUND',
  message: `${formatKey(key)} not found` + (expectedVersion !== undefined ? ` (the change expected resourceVersion ${expectedVersion})` : ''),
  key, ...(expectedVersion !== undefined ? { expectedVersion } : {}),
});

export const alreadyExists = (key: ResourceKey, actualVersion: string): StoreError => ({
  code: 'STORE_ALREADY_EXISTS',
  message: `${formatKey(key)} already exists (resourceVersion ${actualVersion}); replace or apply it instead of creating it`,
  key, actualVersion,
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

export const storeCorrupt = (message: string, cause?: unknown): StoreError => ({ code: 'STORE_CORRUPT', message, ...(cause !== undefined ? { cause } : {}) });

export const storeIo = (what: string, cause: unknown): StoreError => ({
  code: 'STORE_IO',
  message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
  cause,
});

export const storeClosed = (): StoreError => ({ code: 'STORE_CLOSED', message: 'the store is closed' });
