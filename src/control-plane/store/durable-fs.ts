// File-system steps for durability: fsync of a directory (so a created or renamed entry survives a
// crash) and an atomic whole-file replace (temp file, fsync, rename, fsync the directory).
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** Makes the directory's entries (new files, renames) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `file` with `data` so that after a crash it holds either the old or the new content, whole. */
export async function writeFileAtomic(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}
