// Framing of records on disk: magic, length, CRC-32 of length and payload, then the payload.
// Reading a whole framed file (and judging what follows its last intact frame) is log-decode.ts.
import { crc32 } from './crc32.js';

/** `TRL1`: tells a frame header from zeros or garbage. */
export const MAGIC = 0x54524c31;
export const FRAME_HEADER_BYTES = 12;
/** Larger lengths are taken as garbage (a REST body is at most 4 MiB; a snapshot could be large). */
export const MAX_FRAME_PAYLOAD = 1 << 30;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(MAGIC, 0);
  frame.writeUInt32LE(payload.length, 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(frameChecksum(frame, 0, payload.length), 8);
  return frame;
}

/** CRC-32 over the length field at `at + 4` (as if it said `length`) and `length` payload bytes. */
export function frameChecksum(data: Buffer, at: number, length: number): number {
  const field = Buffer.allocUnsafe(4);
  field.writeUInt32LE(length, 0);
  return crc32(data.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length), crc32(field));
}

/** The intact frame starting at `at` (marker, possible length, within `data`, right checksum), if there is one. */
export function intactFrameAt(data: Buffer, at: number): { payload: Buffer; start: number; end: number } | undefined {
  if (data.length - at < FRAME_HEADER_BYTES || data.readUInt32LE(at) !== MAGIC) return undefined;
  const length = data.readUInt32LE(at + 4);
  const end = at + FRAME_HEADER_BYTES + length;
  if (length === 0 || length > MAX_FRAME_PAYLOAD || end > data.length) return undefined;
  if (frameChecksum(data, at, length) !== data.readUInt32LE(at + 8)) return undefined;
  return { payload: data.subarray(at + FRAME_HEADER_BYTES, end), start: at, end };
}
