// Backups of the store: a snapshot file (one CRC-framed record of every resource at one revision)
// taken from a running control plane (`POST /api/v1/store/backup`, whose answer is in memory at one
// committed revision, so it is consistent), and the restore of one into a data dir.
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import { LOG_FILE } from './batch-log.js';
import { fsyncDir, writeFileAtomic } from './durable-fs.js';
import { storeIo, storeNotEmpty, type StoreError } from './errors.js';
import { lockDataDir } from './lock-file.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FILE, type SnapshotData } from './snapshot.js';

/** A timestamp that can be part of a file name. */
export const fileStamp = (now = new Date()): string => now.toISOString().replace(/[:.]/g, '-');

/** Writes `data` to `file` as a backup (atomically; an existing file only with `overwrite`), then reads it back to check it. */
export async function writeBackupFile(file: string, data: SnapshotData, overwrite = false): Promise<Result<void, StoreError>> {
  try {
    if (
      !overwrite &&
      (await fsp.stat(file).then(
        () => true,
        () => false,
      ))
    ) {
      return err(storeIo(`cannot write the backup ${file}`, new Error('the file exists (give --force to replace it)')));
    }
    await writeFileAtomic(file, encodeSnapshot(data));
  } catch (e) {
    return err(storeIo(`cannot write the backup ${file}`, e));
  }
  const back = await readBackupFile(file);
  return back.ok ? ok(undefined) : back;
}

/** The backup in `file`, checked (checksum, format). */
export async function readBackupFile(file: string): Promise<Result<SnapshotData, StoreError>> {
  let data: Buffer;
  try {
    data = await fsp.readFile(file);
  } catch (e) {
    return err(storeIo(`cannot read the backup ${file}`, e));
  }
  return decodeSnapshot(data, file, 'none');
}

export interface RestoreResult {
  revision: number;
  resources: number;
  /** Where the data dir's previous store files were moved (with `force`). */
  movedAside?: string;
}

/** True when `dataDir` holds store data: a snapshot, or a log with something in it. */
async function holdsStore(dataDir: string): Promise<boolean> {
  const size = (f: string) =>
    fsp.stat(path.join(dataDir, f)).then(
      (s) => s.size,
      () => -1,
    );
  return (await size(SNAPSHOT_FILE)) >= 0 || (await size(LOG_FILE)) > 0;
}

/**
 * Makes the backup `from` the store of `dataDir` (at the backup's revision), with no control plane
 * running there (it takes the store's lock). A data dir that holds a store is refused unless
 * `force`; then its store files are moved aside into `replaced-<time>/`, never deleted. The rest
 * of the data dir (CA, tokens) is kept, so the mesh keeps its identity.
 */
export async function restoreBackup(opts: { from: string; dataDir: string; force?: boolean; logger?: Logger }): Promise<Result<RestoreResult, StoreError>> {
  const logger = opts.logger ?? createLogger('control-plane.store');
  const backup = await readBackupFile(opts.from);
  if (!backup.ok) return backup;
  const dataDir = path.resolve(opts.dataDir);
  const lock = await lockDataDir(dataDir, logger);
  if (!lock.ok) return lock;
  try {
    let movedAside: string | undefined;
    if (await holdsStore(dataDir)) {
      if (!opts.force) return err(storeNotEmpty(dataDir));
      movedAside = path.join(dataDir, `replaced-${fileStamp()}`);
      await fsp.mkdir(movedAside, { mode: 0o700 });
      for (const f of [SNAPSHOT_FILE, LOG_FILE]) {
        await fsp.rename(path.join(dataDir, f), path.join(movedAside, f)).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
      }
      await fsyncDir(movedAside);
    }
    await writeFileAtomic(path.join(dataDir, SNAPSHOT_FILE), encodeSnapshot(backup.value));
    const log = await fsp.open(path.join(dataDir, LOG_FILE), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    await log.sync();
    await log.close();
    await fsyncDir(dataDir);
    return ok({ revision: backup.value.revision, resources: backup.value.resources.length, ...(movedAside ? { movedAside } : {}) });
  } catch (e) {
    return err(storeIo(`cannot restore ${opts.from} into ${dataDir}`, e));
  } finally {
    await lock.value.release();
  }
}
