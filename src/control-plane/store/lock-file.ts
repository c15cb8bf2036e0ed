// One control plane per data directory: a lock file holding the owner's pid. A lock whose pid is
// no longer running (the owner crashed) is taken over.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import { storeIo, storeLocked, type StoreError } from './errors.js';

export const LOCK_FILE = 'trellis.lock';

export interface DirLock {
  readonly file: string;
  /** Removes the lock file if this process still owns it. */
  release(): Promise<void>;
}

/** True if a process with this pid exists (EPERM: it exists but belongs to someone else). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt(await fsp.readFile(file, 'utf8'), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Takes the lock of `dataDir` (which must exist). */
export async function acquireDirLock(dataDir: string, log: Logger): Promise<Result<DirLock, StoreError>> {
  const file = path.join(dataDir, LOCK_FILE);
  // The pid is written to a private file first and hard-linked into place, so the lock file is
  // never seen empty and creating it is atomic (link fails if it exists).
  const tmp = path.join(dataDir, `${LOCK_FILE}.${process.pid}.${Date.now()}`);
  try {
    await fsp.writeFile(tmp, `${process.pid}\n`, { mode: 0o644 });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fsp.link(tmp, file);
        const release = async () => {
          if ((await readPid(file).catch(() => undefined)) === process.pid) await fsp.unlink(file).catch(() => undefined);
        };
        return ok({ file, release });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = await readPid(file);
      if (owner !== undefined && running(owner)) return err(storeLocked(dataDir, owner, file));
      log.warn({ dataDir, stalePid: owner ?? null }, `taking over the lock of ${dataDir}: its owner (pid ${owner ?? 'unknown'}) is not running`);
      await fsp.unlink(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    return err(storeIo(`cannot lock ${dataDir}`, new Error('the lock file kept changing hands')));
  } catch (e) {
    return err(storeIo(`cannot lock data directory ${dataDir} (${file})`, e));
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
}

/** Creates `dataDir` (owner-only) if it does not exist, then takes its lock. */
export async function lockDataDir(dataDir: string, log: Logger): Promise<Result<DirLock, StoreError>> {
  try {
    await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return err(storeIo(`cannot create data directory ${dataDir}`, e));
  }
  return acquireDirLock(dataDir, log);
}
