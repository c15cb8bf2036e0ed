// Replacing a file so that a reader sees either the old content or the new, never a part:
// written beside it, flushed, then renamed over it.
import { promises as fsp } from 'node:fs';

/** Writes `data` to `file` atomically, with `mode` from the first byte (the temporary file is created with it). */
export async function writeFileAtomic(file: string, data: string | Buffer, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  // A leftover of a crashed write would keep its own mode: start from nothing.
  await fsp.rm(tmp, { force: true });
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
