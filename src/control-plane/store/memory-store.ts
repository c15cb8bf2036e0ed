// The store's core: resources in memory, batches serialized and planned against the committed
// state, watchers fed after commit. Without a persist hook it is the in-memory store; the file
// store supplies one that makes each batch durable before it is committed here.
import type { Resource, ResourceKey, ResourceKind } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { applyRecord, planBatch, type BatchRecord } from './batch.js';
import { notFound, storeClosed, type StoreError } from './errors.js';
import { keyString, normalizeKey } from './keys.js';
import type { ApplyOptions, ApplyResult, Change, ListResult, Store, StoreHealth, Watch, WatchListener } from './store.js';
import { WatchHub } from './watch-hub.js';

export interface MemoryStoreOptions {
  /** State to start from (the file store's recovered state). */
  initial?: { revision: number; resources: Iterable<Resource> };
  /** Makes a batch durable; the batch is committed in memory only when this resolves ok. */
  persist?: (record: BatchRecord) => Promise<Result<void, StoreError>>;
  /** Called once by close(), after the last batch, e.g. to write a snapshot and release files. */
  onClose?: () => Promise<void>;
  /** Events kept for watchers that resume (default 4096). */
  historyEvents?: number;
  now?: () => Date;
}

export class MemoryStore implements Store {
  private readonly state = new Map<string, Resource>();
  private rev: number;
  private readonly hub: WatchHub;
  /** Invariant: batches run one at a time, in call order; each is planned against the previous one's result. */
  private queue: Promise<unknown> = Promise.resolve();
  private failure: StoreError | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: MemoryStoreOptions = {}) {
    this.rev = opts.initial?.revision ?? 0;
    for (const r of opts.initial?.resources ?? []) applyRecord(this.state, { revision: this.rev, time: '', ops: [{ op: 'put', resource: r }] });
    this.hub = new WatchHub(this.rev, opts.historyEvents ?? 4096);
  }

  async get(key: ResourceKey): Promise<Result<Resource, StoreError>> {
    const r = this.state.get(keyString(key));
    return r ? ok(r) : err(notFound(normalizeKey(key)));
  }

  async list(kind?: ResourceKind, namespace?: string): Promise<ListResult> {
    return { items: this.snapshot(kind, namespace), revision: this.rev };
  }

  /** The committed state, synchronously (sorted by kind, namespace, name). */
  snapshot(kind?: ResourceKind, namespace?: string): Resource[] {
    const out: [string, Resource][] = [];
    for (const entry of this.state) {
      const r = entry[1];
      if (kind !== undefined && r.kind !== kind) continue;
      if (namespace !== undefined && r.metadata.namespace !== namespace) continue;
      out.push(entry);
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
  }

  apply(changes: readonly Change[], opts: ApplyOptions = {}): Promise<Result<ApplyResult, StoreError>> {
    // Batches queued before close() still run; close() waits for them.
    if (this.closing) return Promise.resolve(err(storeClosed()));
    const run = this.queue.then(() => this.applyNow(changes, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(changes: readonly Change[], opts: ApplyOptions): Promise<Result<ApplyResult, StoreError>> {
    if (this.failure) return err(this.failure);
    const planned = planBatch(this.state, this.rev, changes, (this.opts.now ?? (() => new Date()))());
    if (!planned.ok) return planned;
    const { record, outcomes, events } = planned.value;
    if (!record || opts.dryRun) return ok({ revision: this.rev, outcomes });
    if (this.opts.persist) {
      const persisted = await this.opts.persist(record);
      if (!persisted.ok) {
        // The log may now hold a partial record; later batches must not be appended after it.
        this.failure = persisted.error;
        return persisted;
      }
    }
    applyRecord(this.state, record);
    this.rev = record.revision;
    this.hub.publish(events);
    return ok({ revision: record.revision, outcomes });
  }

  revision(): number {
    return this.rev;
  }

  watch(fromRevision: number, listener: WatchListener): Result<Watch, StoreError> {
    if (this.closing) return err(storeClosed());
    return this.hub.watch(fromRevision, listener);
  }

  /** The write failure that stopped this store taking changes, if any. */
  get failed(): StoreError | undefined {
    return this.failure;
  }

  health(): StoreHealth {
    if (this.failure) return { ok: false, reason: this.failure.message };
    if (this.closing) return { ok: false, reason: 'the store is closed' };
    return { ok: true };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue;
      this.hub.closeAll();
      await this.opts.onClose?.();
    })();
    return this.closing;
  }
}

/** A store that keeps nothing across restarts (tests, `--in-memory`). */
export const createMemoryStore = (opts: Omit<MemoryStoreOptions, 'persist' | 'onClose'> = {}): MemoryStore => new MemoryStore(opts);
