// `trellis store repair --truncate-at-corruption`: the operator's explicit choice to keep only the
// log's records before its first damage. The original log is copied aside first; never automatic.
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import { fileStamp } from './backup.js';
import { decodeBatchLog, LOG_FILE } from './batch-log.js';
import { fsyncDir } from './durable-fs.js';
import { storeIo, type StoreError } from './errors.js';
import { acquireDirLock } from './lock-file.js';
import { replayLog } from './replay.js';
import { readSnapshot, SNAPSHOT_FILE } from './snapshot.js';
import { verifyStore } from './verify.js';

export interface RepairResult {
  /** False when there was nothing to cut. */
  repaired: boolean;
  /** Where the original log was copied. */
  copy?: string;
  /** Where the log was cut, and how many bytes (with how many intact records) were dropped. */
  cutAt?: number;
  droppedBytes?: number;
  droppedIntactRecords?: number;
  /** The revision the store opens at now. */
  revision: number;
}

/** Where the log must be cut so that what is left opens: its first damage, or the first record after a missing one. */
async function cutOffset(dataDir: string, logFile: string, data: Buffer): Promise<Result<{ cut?: number; revision: number }, StoreError>> {
  const snapshot = await readSnapshot(path.join(dataDir, SNAPSHOT_FILE));
  // The snapshot is the base of everything: a damaged one is restored from a backup, not cut.
  if (!snapshot.ok) return snapshot;
  const whole = decodeBatchLog(data, logFile);
  const cut = whole.ok ? undefined : (whole.error.offset ?? 0);
  const kept = cut === undefined ? whole : decodeBatchLog(data.subarray(0, cut), logFile);
  if (!kept.ok) return kept; // cannot happen: the bytes before the first damage are intact records
  const replayed = replayLog(snapshot.value, kept.value.records, logFile);
  if (!replayed.ok) {
    const at = replayed.error.offset ?? 0;
    const before = replayLog(
      snapshot.value,
      kept.value.records.filter((r) => r.start < at),
      logFile,
    );
    return ok({ cut: at, revision: before.ok ? before.value.revision : 0 });
  }
  return ok({ ...(cut !== undefined ? { cut } : {}), revision: replayed.value.revision });
}

/** Keeps the log's records before its first damage, after copying the log aside; with no control plane running (takes the lock). */
export async function truncateLogAtCorruption(dataDirIn: string, logger: Logger = createLogger('control-plane.store')): Promise<Result<RepairResult, StoreError>> {
  const dataDir = path.resolve(dataDirIn);
  const logFile = path.join(dataDir, LOG_FILE);
  const lock = await acquireDirLock(dataDir, logger);
  if (!lock.ok) return lock;
  try {
    const data = await fsp.readFile(logFile).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? Buffer.alloc(0) : Promise.reject(e)));
    const where = await cutOffset(dataDir, logFile, data);
    if (!where.ok) return where;
    const { cut, revision } = where.value;
    if (cut === undefined) return ok({ repaired: false, revision });
    const report = await verifyStore(dataDir);
    const copy = `${logFile}.corrupt-${fileStamp()}`;
    await fsp.copyFile(logFile, copy, constants.COPYFILE_EXCL);
    const copied = await fsp.open(copy, 'r+');
    await copied.sync();
    await copied.close();
    await fsyncDir(dataDir);
    const fh = await fsp.open(logFile, 'r+');
    try {
      await fh.truncate(cut);
      await fh.sync();
    } finally {
      await fh.close();
    }
    logger.warn(
      { file: logFile, cutAt: cut, droppedBytes: data.length - cut, copy },
      `cut the store log ${logFile} at byte ${cut} on the operator's request; the original is in ${copy}`,
    );
    return ok({ repaired: true, copy, cutAt: cut, droppedBytes: data.length - cut, droppedIntactRecords: report.recordsAfterDamage, revision });
  } catch (e) {
    return err(storeIo(`cannot repair the store log ${logFile}`, e));
  } finally {
    await lock.value.release();
  }
}
