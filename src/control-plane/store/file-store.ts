// The embedded durable store: state in memory, every batch appended to a log and fsynced before it
// is acknowledged, a snapshot now and then (after which the log starts over), one owner per data dir.
// Opening cuts only a torn tail of the log (log-decode.ts); any other damage is STORE_CORRUPT and
// the files are left as they are (the way out: verify.ts, backup.ts, repair.ts).
//   <dataDir>/trellis.lock       pid of the owner
//   <dataDir>/snapshot.trellis   the state at some revision (absent until the first snapshot)
//   <dataDir>/batches.log        the batches after that revision
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Resource, ResourceKey, ResourceKind } from '../../api/resource.js';
import { createLogger, type Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { BatchRecord } from './batch.js';
import { BatchLog, LOG_FILE } from './batch-log.js';
import { fsyncDir } from './durable-fs.js';
import { storeIo, type StoreError } from './errors.js';
import { lockDataDir, type DirLock } from './lock-file.js';
import { MemoryStore } from './memory-store.js';
import { replayLog } from './replay.js';
import { readSnapshot, SNAPSHOT_FILE, writeSnapshot } from './snapshot.js';
import type { ApplyOptions, ApplyResult, Change, ListResult, Store, StoreHealth, Watch, WatchListener } from './store.js';

export interface FileStoreOptions {
  dataDir: string;
  /** Write a snapshot and start the log over once it holds this many bytes (default 8 MiB) ... */
  snapshotAfterBytes?: number;
  /** ... or this many records (default 10,000). */
  snapshotAfterRecords?: number;
  /** Write a snapshot on close so the next open replays nothing (default true). */
  snapshotOnClose?: boolean;
  /** Events kept for watchers that resume (default 4096). */
  historyEvents?: number;
  now?: () => Date;
  logger?: Logger;
}

/** What opening found on disk. */
export interface FileStoreRecovery {
  /** Revision of the snapshot loaded (0 if none). */
  snapshotRevision: number;
  /** Log records replayed on top of it. */
  replayedRecords: number;
  /** Bytes of a torn log tail (an unacknowledged write) that were cut off. */
  droppedTailBytes: number;
}

export interface FileStore extends Store {
  readonly dataDir: string;
  readonly recovery: FileStoreRecovery;
}

/** Opens (creating if needed) the store in `opts.dataDir`; STORE_LOCKED if another process has it open. */
export async function openFileStore(opts: FileStoreOptions): Promise<Result<FileStore, StoreError>> {
  const log = opts.logger ?? createLogger('control-plane.store');
  const dataDir = path.resolve(opts.dataDir);
  const lock = await lockDataDir(dataDir, log);
  if (!lock.ok) return lock;
  const opened = await recover(dataDir, log);
  if (!opened.ok) {
    await lock.value.release();
    return opened;
  }
  return ok(new DurableStore(dataDir, lock.value, opened.value.log, opened.value.state, opened.value.recovery, opts, log));
}

interface Recovered {
  log: BatchLog;
  state: { revision: number; resources: Iterable<Resource> };
  recovery: FileStoreRecovery;
}

async function recover(dataDir: string, logger: Logger): Promise<Result<Recovered, StoreError>> {
  const snapshotFile = path.join(dataDir, SNAPSHOT_FILE);
  // A leftover temp file is a snapshot that was never renamed into place: never part of the state.
  await fsp.rm(`${snapshotFile}.tmp`, { force: true });
  const snapshot = await readSnapshot(snapshotFile);
  if (!snapshot.ok) return snapshot;
  const opened = await BatchLog.open(path.join(dataDir, LOG_FILE), logger);
  if (!opened.ok) return opened;
  const { log, contents } = opened.value;
  const replayed = replayLog(snapshot.value, contents.records, log.file);
  if (!replayed.ok) {
    await log.close();
    return replayed;
  }
  try {
    await fsyncDir(dataDir);
  } catch (e) {
    await log.close();
    return err(storeIo(`cannot sync data directory ${dataDir}`, e));
  }
  return ok({
    log,
    state: { revision: replayed.value.revision, resources: replayed.value.state.values() },
    recovery: { snapshotRevision: snapshot.value?.revision ?? 0, replayedRecords: replayed.value.replayed, droppedTailBytes: contents.tornTail?.bytes ?? 0 },
  });
}

class DurableStore implements FileStore {
  private readonly core: MemoryStore;
  private readonly snapshotFile: string;

  constructor(
    readonly dataDir: string,
    private readonly lock: DirLock,
    private readonly log: BatchLog,
    state: Recovered['state'],
    readonly recovery: FileStoreRecovery,
    private readonly opts: FileStoreOptions,
    private readonly logger: Logger,
  ) {
    this.snapshotFile = path.join(dataDir, SNAPSHOT_FILE);
    this.core = new MemoryStore({
      initial: state,
      persist: (record) => this.persist(record),
      onClose: () => this.shutdown(),
      ...(opts.historyEvents !== undefined ? { historyEvents: opts.historyEvents } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  get(key: ResourceKey) {
    return this.core.get(key);
  }
  list(kind?: ResourceKind, namespace?: string): Promise<ListResult> {
    return this.core.list(kind, namespace);
  }
  apply(changes: readonly Change[], opts?: ApplyOptions): Promise<Result<ApplyResult, StoreError>> {
    return this.core.apply(changes, opts);
  }
  revision(): number {
    return this.core.revision();
  }
  watch(fromRevision: number, listener: WatchListener): Result<Watch, StoreError> {
    return this.core.watch(fromRevision, listener);
  }
  health(): StoreHealth {
    return this.core.health();
  }
  close(): Promise<void> {
    return this.core.close();
  }

  /** Runs inside the core's batch queue, so the core's state is the last committed one. */
  private async persist(record: BatchRecord): Promise<Result<void, StoreError>> {
    const maxBytes = this.opts.snapshotAfterBytes ?? 8 * 1024 * 1024;
    const maxRecords = this.opts.snapshotAfterRecords ?? 10_000;
    if (this.log.bytes >= maxBytes || this.log.records >= maxRecords) await this.snapshot();
    return this.log.append(record);
  }

  /** Writes the committed state as the snapshot, then empties the log. A failure only delays it. */
  private async snapshot(): Promise<void> {
    const revision = this.core.revision();
    try {
      await writeSnapshot(this.snapshotFile, { revision, resources: this.core.snapshot() });
    } catch (e) {
      this.logger.warn({ err: e, file: this.snapshotFile }, `cannot write the store snapshot ${this.snapshotFile}; keeping the log as it is`);
      return;
    }
    // If this fails or the process dies first, the log's records are at or below the snapshot's revision and are skipped on open.
    await this.log.reset().catch((e: unknown) => this.logger.warn({ err: e, file: this.log.file }, `cannot empty the store log ${this.log.file} after a snapshot`));
  }

  private async shutdown(): Promise<void> {
    if ((this.opts.snapshotOnClose ?? true) && this.log.records > 0 && !this.core.failed) await this.snapshot();
    await this.log.close().catch(() => undefined);
    await this.lock.release();
  }
}
