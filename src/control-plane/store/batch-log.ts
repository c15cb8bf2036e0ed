// The append-only log of committed batches: one framed JSON record per batch, written whole and
// fsynced before the batch is acknowledged, one append at a time, nothing appended after a failed
// one (the write protocol log-decode.ts relies on). Opening it cuts a torn tail (a write that was never
// acknowledged) and refuses anything else that is damaged, leaving the file as it is.
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { BatchRecord } from './batch.js';
import { storeCorrupt, storeIo, type StoreError } from './errors.js';
import { decodeFrames, type FrameTail } from './log-decode.js';
import { encodeFrame } from './log-frame.js';

export const LOG_FILE = 'batches.log';

/** A record of the log and where it lies in the file. */
export interface LoggedRecord {
  record: BatchRecord;
  start: number;
  end: number;
}

/** What the log holds. */
export interface LogContents {
  records: LoggedRecord[];
  /** Bytes covered by intact records. */
  validLength: number;
  /** An unfinished last write after them, if any (never acknowledged: cut on open). */
  tornTail?: FrameTail;
}

/** The records in `data` (the bytes of the log `file`); any damage but a torn tail is STORE_CORRUPT with where it is. */
export function decodeBatchLog(data: Buffer, file: string): Result<LogContents, StoreError> {
  const decoded = decodeFrames(data);
  const records: LoggedRecord[] = [];
  for (const [i, frame] of decoded.frames.entries()) {
    try {
      records.push({ record: JSON.parse(frame.payload.toString('utf8')) as BatchRecord, start: frame.start, end: frame.end });
    } catch (e) {
      // The checksum matched, so these bytes were written like this: a bug, not a torn write.
      return err(
        storeCorrupt({ file, offset: frame.start, record: i + 1 }, `the record has a valid checksum but is not JSON: ${(e as Error).message}`, {
          cause: e,
          wayOut: 'restore-or-repair',
        }),
      );
    }
  }
  const tail = decoded.tail;
  if (tail && !tail.torn) {
    const previous = records.at(-1)?.record.revision;
    return err(
      storeCorrupt(
        { file, offset: tail.offset, record: records.length + 1, ...(previous !== undefined ? { revision: previous + 1 } : {}) },
        `${tail.reason}; ${records.length} intact record(s) before it${previous !== undefined ? ` (up to revision ${previous})` : ''}, ${tail.bytes} bytes from it to the end`,
        { wayOut: 'restore-or-repair' },
      ),
    );
  }
  return ok({ records, validLength: decoded.validLength, ...(tail ? { tornTail: tail } : {}) });
}

export class BatchLog {
  private constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    private size: number,
    private count: number,
  ) {}

  /** Opens (creating) the log and reads every record; cuts a torn tail, refuses (and leaves as it is) a damaged log. */
  static async open(file: string, log: Logger): Promise<Result<{ log: BatchLog; contents: LogContents }, StoreError>> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(file, 'a+', 0o600);
    } catch (e) {
      return err(storeIo(`cannot open the store log ${file}`, e));
    }
    try {
      const decoded = decodeBatchLog(await fh.readFile(), file);
      if (!decoded.ok) {
        await fh.close();
        return decoded;
      }
      const { tornTail, validLength, records } = decoded.value;
      if (tornTail) {
        log.warn(
          { file, offset: tornTail.offset, droppedBytes: tornTail.bytes, reason: tornTail.reason },
          `the store log ${file} ends with ${tornTail.bytes} bytes of an unfinished write at byte ${tornTail.offset} (${tornTail.reason}); cutting them (that batch was never acknowledged)`,
        );
        await fh.truncate(validLength);
        await fh.datasync();
      }
      return ok({ log: new BatchLog(fh, file, validLength, records.length), contents: decoded.value });
    } catch (e) {
      await fh.close().catch(() => undefined);
      return err(storeIo(`cannot read the store log ${file}`, e));
    }
  }

  /** Bytes in the log. */
  get bytes(): number {
    return this.size;
  }

  /** Records in the log. */
  get records(): number {
    return this.count;
  }

  /** Appends one record and resolves once it is on disk. */
  async append(record: BatchRecord): Promise<Result<void, StoreError>> {
    const frame = encodeFrame(Buffer.from(JSON.stringify(record)));
    try {
      // A short write (a disk filling up) reports fewer bytes, not an error: write the rest, so a batch
      // is never acknowledged with part of its record missing.
      for (let done = 0; done < frame.length;) done += (await this.fh.write(frame, done, frame.length - done)).bytesWritten;
      await this.fh.datasync();
    } catch (e) {
      // Cut off whatever part of the frame may have reached the file, so nothing is ever appended after it.
      await this.fh.truncate(this.size).catch(() => undefined);
      return err(storeIo(`cannot write revision ${record.revision} to the store log ${this.file}`, e));
    }
    this.size += frame.length;
    this.count++;
    return ok(undefined);
  }

  /** Empties the log (after a snapshot has made its records redundant). */
  async reset(): Promise<void> {
    await this.fh.truncate(0);
    await this.fh.datasync();
    this.size = 0;
    this.count = 0;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
