// The snapshot file: the whole state at one revision, written atomically as a single frame so any
// damage is detected. It is replaced by rename, never appended to, so it is never torn: any damage
// (a torn-looking tail included) is corruption. Backups (`trellis store backup`) have this format too.
import { promises as fsp } from 'node:fs';
import type { Resource } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { writeFileAtomic } from './durable-fs.js';
import { storeCorrupt, storeIo, type StoreError } from './errors.js';
import { decodeFrames } from './log-decode.js';
import { encodeFrame } from './log-frame.js';

export const SNAPSHOT_FILE = 'snapshot.trellis';
export const SNAPSHOT_FORMAT = 'trellis-store-snapshot/1';

export interface SnapshotData {
  revision: number;
  resources: Resource[];
}

/** The bytes of a snapshot file holding `data`. */
export const encodeSnapshot = (data: SnapshotData): Buffer =>
  encodeFrame(Buffer.from(JSON.stringify({ format: SNAPSHOT_FORMAT, revision: data.revision, resources: data.resources })));

export async function writeSnapshot(file: string, data: SnapshotData): Promise<void> {
  await writeFileAtomic(file, encodeSnapshot(data));
}

/** The snapshot in `data` (the bytes of `file`); any damage is STORE_CORRUPT with its offset. */
export function decodeSnapshot(data: Buffer, file: string, wayOut: 'restore' | 'none' = 'restore'): Result<SnapshotData, StoreError> {
  const decoded = decodeFrames(data);
  if (decoded.tail)
    return err(
      storeCorrupt({ file, offset: decoded.tail.offset }, `${decoded.tail.reason} (a snapshot is written whole and renamed into place, so no damage is a torn write)`, { wayOut }),
    );
  if (decoded.frames.length !== 1) return err(storeCorrupt({ file, offset: decoded.frames[1]?.start ?? 0 }, `${decoded.frames.length} records, expected 1`, { wayOut }));
  const payload = decoded.frames[0]!;
  try {
    const parsed = JSON.parse(payload.payload.toString('utf8')) as { format?: unknown; revision?: unknown; resources?: unknown };
    if (parsed.format !== SNAPSHOT_FORMAT || !Number.isSafeInteger(parsed.revision) || !Array.isArray(parsed.resources)) {
      return err(storeCorrupt({ file, offset: payload.start }, `format ${JSON.stringify(parsed.format)}, expected ${SNAPSHOT_FORMAT} with a revision and resources`, { wayOut }));
    }
    return ok({ revision: parsed.revision as number, resources: parsed.resources as Resource[] });
  } catch (e) {
    return err(storeCorrupt({ file, offset: payload.start }, `the record has a valid checksum but is not JSON: ${(e as Error).message}`, { cause: e, wayOut }));
  }
}

/** The snapshot in `file`, or `undefined` if there is none yet. */
export async function readSnapshot(file: string): Promise<Result<SnapshotData | undefined, StoreError>> {
  let data: Buffer;
  try {
    data = await fsp.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok(undefined);
    return err(storeIo(`cannot read snapshot ${file}`, e));
  }
  return decodeSnapshot(data, file);
}
