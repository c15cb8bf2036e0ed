// 32-bit hashes for ring hash: of ring points (built once per endpoint set) and of request keys.
import { createHash } from 'node:crypto';

/** A well-spread unsigned 32-bit hash of `key` (the first 4 bytes of its SHA-1). */
export function hash32(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0);
}
