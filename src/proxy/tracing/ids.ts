// Random trace and span ids (W3C: 16 and 8 random bytes as lower-case hex), drawn from a pool
// of crypto random bytes refilled 4 KiB at a time, so an id costs no system call.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let offset = pool.length;

function take(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  // An all-zero id is invalid; the chance is 2^-64 or less, but it must never go out.
  return /^0+$/.test(s) ? take(bytes) : s;
}

/** A new 32-hex-digit trace id. */
export function newTraceId(): string {
  return take(16);
}

/** A new 16-hex-digit span id. */
export function newSpanId(): string {
  return take(8);
}
