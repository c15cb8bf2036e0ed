// Virtual IP allocation (pure): every Service gets one address of the mesh's range. A Service
// keeps the address it has while it exists and the range still holds it; a new Service gets
// the address its name hashes to, or the next free one. Deterministic for a given history.
import { createHash } from 'node:crypto';
import { inRange, ipv4ToNumber, numberToIpv4, parseIpv4Range } from '../../api/virtual-ip-range.js';

/** `ns/name` -> dotted IPv4. */
export type VirtualIps = ReadonlyMap<string, string>;

export interface AllocationResult {
  readonly vips: VirtualIps;
  /** True when anything differs from the previous allocation. */
  readonly changed: boolean;
  /** Services left without an address (the range is full), by key. */
  readonly unallocated: readonly string[];
}

function preferredOffset(key: string, usable: number): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % usable;
}

/**
 * Allocates for `serviceKeys` (any order) from `rangeText`, keeping `previous` where it can.
 * The first and last address of the range are never given (network and broadcast forms).
 */
export function allocateVirtualIps(previous: VirtualIps, serviceKeys: readonly string[], rangeText: string): AllocationResult {
  const parsed = parseIpv4Range(rangeText);
  if (!parsed.ok) throw new Error(`virtual IP range ${JSON.stringify(rangeText)}: ${parsed.reason}`);
  const range = parsed.value;
  const usable = range.size - 2;
  const wanted = new Set(serviceKeys);
  const vips = new Map<string, string>();
  const taken = new Set<number>();
  for (const [key, ip] of [...previous].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const n = ipv4ToNumber(ip);
    if (!wanted.has(key) || n === undefined || !inRange(range, ip) || n === range.base || n === range.base + range.size - 1 || taken.has(n)) continue;
    vips.set(key, ip);
    taken.add(n);
  }
  const unallocated: string[] = [];
  for (const key of [...wanted].sort()) {
    if (vips.has(key)) continue;
    if (taken.size >= usable) {
      unallocated.push(key);
      continue;
    }
    let offset = preferredOffset(key, usable);
    while (taken.has(range.base + 1 + offset)) offset = (offset + 1) % usable;
    const n = range.base + 1 + offset;
    taken.add(n);
    vips.set(key, numberToIpv4(n));
  }
  const changed = vips.size !== previous.size || [...vips].some(([k, ip]) => previous.get(k) !== ip);
  return { vips: new Map([...vips].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), changed, unallocated };
}
