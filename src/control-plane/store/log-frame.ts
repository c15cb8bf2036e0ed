// Framing of records on disk: magic, length, CRC-32 of length and payload, then the payload.
// Decoding stops at the first frame that is incomplete or fails its checks (a torn or corrupt tail).
import { crc32 } from './crc32.js';

/** `TRL1`: tells a frame header from zeros or garbage. */
const MAGIC = 0x54524c31;
export const FRAME_HEADER_BYTES = 12;
/** Larger lengths are taken as garbage (a REST body is at most 4 MiB; a snapshot could be large). */
export const MAX_FRAME_PAYLOAD = 1 << 30;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(MAGIC, 0);
  frame.writeUInt32LE(payload.length, 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(crc32(payload, crc32(frame.subarray(4, 8))), 8);
  return frame;
}

export interface DecodedFrames {
  /** Payloads of the valid frames, in order, with the offset just past each. */
  frames: { payload: Buffer; end: number }[];
  /** Bytes covered by valid frames; everything after it is a torn or corrupt tail. */
  validLength: number;
  /** Why decoding stopped before the end of the data, if it did. */
  tailProblem?: string;
}

export function decodeFrames(data: Buffer): DecodedFrames {
  const frames: { payload: Buffer; end: number }[] = [];
  let at = 0;
  const stop = (why: string): DecodedFrames => ({ frames, validLength: at, tailProblem: `${why} at byte ${at} of ${data.length}` });
  while (at < data.length) {
    if (data.length - at < FRAME_HEADER_BYTES) return stop(`an incomplete frame header (${data.length - at} bytes)`);
    if (data.readUInt32LE(at) !== MAGIC) return stop('no frame marker');
    const length = data.readUInt32LE(at + 4);
    if (length === 0 || length > MAX_FRAME_PAYLOAD) return stop(`an impossible frame length ${length}`);
    const end = at + FRAME_HEADER_BYTES + length;
    if (end > data.length) return stop(`an incomplete frame (${data.length - at - FRAME_HEADER_BYTES} of ${length} payload bytes)`);
    const payload = data.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(payload, crc32(data.subarray(at + 4, at + 8))) !== data.readUInt32LE(at + 8)) return stop('a frame with a wrong checksum');
    frames.push({ payload, end });
    at = end;
  }
  return { frames, validLength: at };
}
