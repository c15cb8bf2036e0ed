// The store's public surface: the contract, the in-memory and the embedded file store.
export type { ApplyOptions, ApplyResult, Change, ChangeAction, ChangeOutcome, DeleteChange, ListResult, PutChange, PutMode, Store, StoreHealth, Watch, WatchEvent, WatchEventType, WatchListener } from './store.js';
export type { StoreError, StoreErrorCode } from './errors.js';
export { createMemoryStore, MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { openFileStore, type FileStore, type FileStoreOptions, type FileStoreRecovery } from './file-store.js';
