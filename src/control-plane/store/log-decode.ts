// Decoding a framed file: its intact frames in order, then what follows the last of them, judged
// to be a torn tail (cut on open) or corruption (refused).
//
// Why only these shapes can be torn: the log's write protocol (batch-log.ts) appends one record at
// a time, written whole, then fdatasync; the batch is acknowledged only after fdatasync returns, and
// nothing is appended after a write that failed. So after any crash every record but the last was
// acknowledged, and the last is either intact (it was synced) or the one append in flight. That
// append can leave, after the last intact frame, only a prefix of its frame (the file ends early),
// or its frame at full length with some 512-byte sectors never written (the file size reached the
// disk, some data did not): those read back as zeros. Records are JSON text, which never holds a
// zero byte, so a sector of zeros is one the disk never received, not a flipped bit (etcd's WAL
// decoder tells torn entries the same way).
//
// TORN TAIL: the bytes after the last intact frame, when no intact frame starts anywhere in them and
//   (a) they are all zeros; or
//   (b) they begin with the frame marker (or, under 4 bytes, a prefix of it) and a possible length,
//       and the file ends before the frame does (an incomplete header counts), unless the bytes to
//       the end checksum as a whole frame with their own length (then the length field is damaged); or
//   (c) their first 512-byte sector (cut to them) reads as zeros: the header never reached the disk; or
//   (d) they are exactly one frame, marker and length right, ending at the end of the file, whose
//       checksum fails and which holds a 512-byte-aligned sector (cut to the frame) of zeros.
// CORRUPTION: anything else. In particular a damaged record followed by an intact one (the first
// record, or one in the middle), garbage, an impossible length, a frame followed by more bytes, and a
// last record at full length that fails its checksum with no sector of zeros: it was fsynced before
// it was acknowledged and was damaged since, so cutting it could drop an acknowledged batch.
import { FRAME_HEADER_BYTES, frameChecksum, intactFrameAt, MAGIC, MAX_FRAME_PAYLOAD } from './log-frame.js';

/** Sectors a disk writes atomically; a smaller unit of loss is not assumed. */
export const SECTOR_BYTES = 512;

export interface DecodedFrames {
  /** Payloads of the intact frames, in order, with where each starts and the offset just past it. */
  frames: { payload: Buffer; start: number; end: number }[];
  /** Where the intact frames end (the bytes they cover, when decoding started at 0). */
  validLength: number;
  /** What follows the intact frames, when decoding stopped before the end of the data. */
  tail?: FrameTail;
}

export interface FrameTail {
  /** Where the first damaged or incomplete frame starts. */
  offset: number;
  /** Bytes from there to the end of the data. */
  bytes: number;
  /** true: what an interrupted append leaves (safe to cut); false: corruption. */
  torn: boolean;
  /** What was found, one phrase. */
  reason: string;
}

const MAGIC_BYTES = (() => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(MAGIC, 0);
  return b;
})();
const allZero = (data: Buffer, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (data[i] !== 0) return false;
  return true;
};

/** The first intact frame starting after `at`, if any. */
export function intactFrameAfter(data: Buffer, at: number): number | undefined {
  for (let i = data.indexOf(MAGIC_BYTES, at + 1); i !== -1; i = data.indexOf(MAGIC_BYTES, i + 1)) {
    if (intactFrameAt(data, i)) return i;
  }
  return undefined;
}

/** The first sector of [from, to), cut at multiples of SECTOR_BYTES of the file, that is all zeros. */
function zeroSector(data: Buffer, from: number, to: number): number | undefined {
  for (let start = from; start < to; start = (Math.floor(start / SECTOR_BYTES) + 1) * SECTOR_BYTES) {
    const end = Math.min(to, (Math.floor(start / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    if (allZero(data, start, end)) return start;
  }
  return undefined;
}

/** Judges the bytes of `data` from `at` (where decoding found no intact frame) to its end. */
export function classifyTail(data: Buffer, at: number): FrameTail {
  const bytes = data.length - at;
  const torn = (reason: string): FrameTail => ({ offset: at, bytes, torn: true, reason });
  const corrupt = (reason: string): FrameTail => ({ offset: at, bytes, torn: false, reason });
  const next = intactFrameAfter(data, at);
  if (next !== undefined) return corrupt(`a damaged record followed by an intact one at byte ${next}`);
  if (allZero(data, at, data.length)) return torn(`${bytes} zero bytes (the file grew but the record never reached the disk)`);
  const markerOk = bytes >= 4 ? data.readUInt32LE(at) === MAGIC : data.subarray(at).equals(MAGIC_BYTES.subarray(0, bytes));
  if (!markerOk) {
    const firstSectorEnd = Math.min(data.length, (Math.floor(at / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    if (allZero(data, at, firstSectorEnd)) return torn('a record whose first sector reads as zeros (its header never reached the disk)');
    return corrupt('no record marker');
  }
  if (bytes < FRAME_HEADER_BYTES) return torn(`an incomplete record header (${bytes} of ${FRAME_HEADER_BYTES} bytes)`);
  const length = data.readUInt32LE(at + 4);
  if (length === 0 || length > MAX_FRAME_PAYLOAD) return corrupt(`an impossible record length ${length}`);
  const end = at + FRAME_HEADER_BYTES + length;
  const present = bytes - FRAME_HEADER_BYTES;
  if (end > data.length) {
    if (present > 0 && frameChecksum(data, at, present) === data.readUInt32LE(at + 8)) {
      return corrupt(
        `a record whose length field says ${length} bytes, but whose ${present} bytes to the end of the file checksum as a whole record (the length field is damaged)`,
      );
    }
    return torn(`an incomplete record (${present} of ${length} payload bytes)`);
  }
  if (end < data.length) return corrupt(`a record with a wrong checksum, followed by ${data.length - end} more bytes`);
  const zeros = zeroSector(data, at, end);
  if (zeros !== undefined) return torn(`a last record whose sector at byte ${zeros} reads as zeros (it never reached the disk)`);
  return corrupt('a last record with a wrong checksum and no unwritten sector (it was synced before it was acknowledged, and damaged since)');
}

/** The intact frames of `data` from byte `from` (default its start), and what follows them (see the rules above). */
export function decodeFrames(data: Buffer, from = 0): DecodedFrames {
  const frames: DecodedFrames['frames'] = [];
  let at = from;
  while (at < data.length) {
    const frame = intactFrameAt(data, at);
    if (!frame) return { frames, validLength: at, tail: classifyTail(data, at) };
    frames.push(frame);
    at = frame.end;
  }
  return { frames, validLength: at };
}
