// The store's public surface: the contract, the in-memory and the embedded file store, and the
// operator's tools for its files (verify, backup, restore, repair).
export type {
  ApplyOptions,
  ApplyResult,
  Change,
  ChangeAction,
  ChangeOutcome,
  DeleteChange,
  ListResult,
  PutChange,
  PutMode,
  Store,
  StoreHealth,
  Watch,
  WatchEvent,
  WatchEventType,
  WatchListener,
} from './store.js';
export type { StoreError, StoreErrorCode } from './errors.js';
export { createMemoryStore, MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { openFileStore, type FileStore, type FileStoreOptions, type FileStoreRecovery } from './file-store.js';
export { verifyStore, type StoreProblem, type StoreVerifyReport } from './verify.js';
export { readBackupFile, restoreBackup, writeBackupFile, type RestoreResult } from './backup.js';
export { truncateLogAtCorruption, type RepairResult } from './repair.js';
export type { SnapshotData } from './snapshot.js';
