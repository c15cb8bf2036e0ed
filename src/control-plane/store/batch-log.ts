// The append-only log of committed batches: one framed JSON record per batch, fsynced before the
// batch is acknowledged. Opening it drops a torn or corrupt tail (a write that was never acknowledged).
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { BatchRecord } from './batch.js';
import { storeCorrupt, storeIo, type StoreError } from './errors.js';
import { decodeFrames, encodeFrame } from './log-frame.js';

export const LOG_FILE = 'batches.log';

/** What opening the log found. */
export interface LogRecovery {
  records: BatchRecord[];
  /** Bytes of a torn or corrupt tail that were cut off (0 if none). */
  droppedBytes: number;
  /** Why the tail was cut, if it was. */
  tailProblem?: string;
}

export class BatchLog {
  private constructor(private readonly fh: FileHandle, readonly file: string, private size: number, private count: number) {}

  /** Opens (creating) the log, reads every intact record, and truncates a damaged tail. */
  static async open(file: string, log: Logger): Promise<Result<{ log: BatchLog; recovery: LogRecovery }, StoreError>> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(file, 'a+', 0o600);
    } catch (e) {
      return err(storeIo(`cannot open the store log ${file}`, e));
    }
    try {
      const data = await fh.readFile();
      const decoded = decodeFrames(data);
      const records: BatchRecord[] = [];
      for (const [i, frame] of decoded.frames.entries()) {
        try {
          records.push(JSON.parse(frame.payload.toString('utf8')) as BatchRecord);
        } catch (e) {
          // The checksum matched, so these bytes were written like this: a bug, not a torn write.
          await fh.close();
          return err(storeCorrupt(`record ${i + 1} of the store log ${file} (ending at byte ${frame.end}) has a valid checksum but is not JSON: ${(e as Error).message}`, e));
        }
      }
      const droppedBytes = data.length - decoded.validLength;
      if (droppedBytes > 0) {
        log.warn({ file, droppedBytes, reason: decoded.tailProblem }, `the store log ${file} ends with ${droppedBytes} bytes of an unfinished write (${decoded.tailProblem}); dropping them (that batch was never acknowledged)`);
        await fh.truncate(decoded.validLength);
        await fh.datasync();
      }
      const recovery: LogRecovery = { records, droppedBytes, ...(decoded.tailProblem ? { tailProblem: decoded.tailProblem } : {}) };
      return ok({ log: new BatchLog(fh, file, decoded.validLength, records.length), recovery });
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
      await this.fh.write(frame);
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
