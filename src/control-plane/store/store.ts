// The Store contract every backend implements (embedded file store, in-memory, etcd):
// keyed resources, atomic batches with optimistic concurrency, one revision per batch, watch.
import type { Resource, ResourceKey, ResourceKind } from '../../api/resource.js';
import type { Result } from '../../common/result.js';
import type { StoreError } from './errors.js';

/**
 * How a put treats an existing resource.
 * - `create`: MUST NOT exist (else STORE_ALREADY_EXISTS).
 * - `replace`: MUST exist (else STORE_NOT_FOUND).
 * - `upsert` (default): created or replaced.
 * With `expectedVersion`, the resource MUST exist with exactly that resourceVersion (else STORE_CONFLICT / STORE_NOT_FOUND).
 */
export type PutMode = 'create' | 'replace' | 'upsert';

export interface PutChange {
  op: 'put';
  /** The resource as the user wrote it; server fields in its metadata are ignored (the store sets them). */
  resource: Resource;
  mode?: PutMode;
  expectedVersion?: string;
}

export interface DeleteChange {
  op: 'delete';
  key: ResourceKey;
  /** When given, the resource MUST have exactly this resourceVersion. */
  expectedVersion?: string;
}

export type Change = PutChange | DeleteChange;

export interface ApplyOptions {
  /** Check the batch and answer what would happen, without storing anything. */
  dryRun?: boolean;
}

/** What one change did. `unchanged`: the stored content was already equal (server fields aside); nothing was written. */
export type ChangeAction = 'created' | 'updated' | 'unchanged' | 'deleted';

export interface ChangeOutcome {
  key: ResourceKey;
  action: ChangeAction;
  /** The stored resource after the change; for `deleted`, its last state (resourceVersion = the deleting revision). */
  resource: Resource;
}

export interface ApplyResult {
  /** The batch's revision; the current revision when nothing changed (all `unchanged`) or on a dry run. */
  revision: number;
  /** One per change, in the order given. */
  outcomes: ChangeOutcome[];
}

export interface ListResult {
  /** Sorted by kind, namespace, name. */
  items: Resource[];
  /** The revision the list was read at: watch from here to see every later change. */
  revision: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  /** The resource after the change; for DELETED its last state. */
  resource: Resource;
  /** The store revision of the batch that made the change (several events may share one). */
  revision: number;
}

export type WatchListener = (event: WatchEvent) => void;

export interface Watch {
  /** Stops delivery; idempotent. */
  close(): void;
}

export interface StoreHealth {
  ok: boolean;
  /** Why not, when not ok. */
  reason?: string;
}

/**
 * A store of resources. Resources it returns are frozen: copy before changing them.
 *
 * Invariants every implementation MUST keep:
 * - a batch commits all of its changes or none, and gets exactly one new revision (revisions increase by one per batch);
 * - every stored resource has `metadata.resourceVersion` = the revision of its last change (decimal string) and
 *   `metadata.creationTimestamp` from its creation (kept when replaced);
 * - `apply` resolves only once the batch is durable;
 * - watchers see events in revision order, each batch's events together, exactly once.
 */
export interface Store {
  get(key: ResourceKey): Promise<Result<Resource, StoreError>>;
  /** Every resource, or those of one kind, or of one kind in one namespace. */
  list(kind?: ResourceKind, namespace?: string): Promise<ListResult>;
  apply(changes: readonly Change[], opts?: ApplyOptions): Promise<Result<ApplyResult, StoreError>>;
  /** The revision of the last committed batch (0 for an empty new store). */
  revision(): number;
  /**
   * Delivers every event with revision > `fromRevision`, then each new one as it commits. Events already in the
   * history are replayed before `watch` returns. STORE_WATCH_EXPIRED when that history no longer reaches back to
   * `fromRevision`: the watcher must list again and watch from the list's revision.
   */
  watch(fromRevision: number, listener: WatchListener): Result<Watch, StoreError>;
  health(): StoreHealth;
  /** Waits for batches in flight, then releases the store (and its data directory). */
  close(): Promise<void>;
}
