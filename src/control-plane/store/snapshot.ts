// The snapshot file: the whole state at one revision, written atomically as a single frame so any
// damage is detected (it is never torn: it is replaced by rename).
import { promises as fsp } from 'node:fs';
import type { Resource } from '../../api/resource.js';
import { err, ok, type Result } from '../../common/result.js';
import { writeFileAtomic } from './durable-fs.js';
import { storeCorrupt, storeIo, type StoreError } from './errors.js';
import { decodeFrames, encodeFrame } from './log-frame.js';

export const SNAPSHOT_FILE = 'snapshot.trellis';
const FORMAT = 'trellis-store-snapshot/1';

export interface SnapshotData {
  revision: number;
  resources: Resource[];
}

export async function writeSnapshot(file: string, data: SnapshotData): Promise<void> {
  const payload = Buffer.from(JSON.stringify({ format: FORMAT, revision: data.revision, resources: data.resources }));
  await writeFileAtomic(file, encodeFrame(payload));
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
  const decoded = decodeFrames(data);
  if (decoded.frames.length !== 1 || decoded.tailProblem) {
    return err(storeCorrupt(`snapshot ${file} is damaged (${decoded.tailProblem ?? `${decoded.frames.length} frames, expected 1`}); restore it from a backup`));
  }
  try {
    const parsed = JSON.parse(decoded.frames[0]!.payload.toString('utf8')) as { format?: unknown; revision?: unknown; resources?: unknown };
    if (parsed.format !== FORMAT || !Number.isSafeInteger(parsed.revision) || !Array.isArray(parsed.resources)) {
      return err(storeCorrupt(`snapshot ${file} has format ${JSON.stringify(parsed.format)}, expected ${FORMAT} with a revision and resources`));
    }
    return ok({ revision: parsed.revision as number, resources: parsed.resources as Resource[] });
  } catch (e) {
    return err(storeCorrupt(`snapshot ${file} is not valid JSON: ${(e as Error).message}`, e));
  }
}
