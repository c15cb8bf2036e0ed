// Ring hash (consistent hashing) for session affinity: each endpoint owns many points on a
// 32-bit ring; a request goes to the owner of the first point at or after its key's hash, so
// the same key keeps its endpoint and a change of the endpoint set moves only ~1/n of the keys.
// A request without a key gets a random point. A retry walks on along the ring past the
// owners it already tried (Envoy's previous_hosts with ring hash), so it lands on the endpoint
// that would own the key if the tried ones were gone.
import { EMPTY_BALANCER, registerBalancer, type Balancer, type Pickable } from './balancer.js';
import { hash32 } from './hash-key.js';

/** Points per endpoint: about Envoy's default minimum ring size (1024) for a handful of endpoints. */
export const POINTS_PER_ENDPOINT = 160;

class RingHash<T extends Pickable> implements Balancer<T> {
  private readonly points: Uint32Array;
  private readonly owners: T[];

  constructor(endpoints: readonly T[], names: readonly string[]) {
    const entries: { point: number; owner: T }[] = [];
    endpoints.forEach((e, i) => {
      for (let k = 0; k < POINTS_PER_ENDPOINT; k++) entries.push({ point: hash32(`${names[i]}_${k}`), owner: e });
    });
    entries.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(entries, (x) => x.point);
    this.owners = entries.map((x) => x.owner);
  }

  pick(hash?: number, avoid?: readonly T[]): T | undefined {
    const h = hash ?? Math.floor(Math.random() * 0x1_0000_0000);
    const points = this.points;
    // First point >= h, wrapping to the start.
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    const at = lo === points.length ? 0 : lo;
    const owners = this.owners;
    if (avoid === undefined || avoid.length === 0) return owners[at];
    const n = owners.length;
    for (let k = 0; k < n; k++) {
      const owner = owners[(at + k) % n]!;
      if (!avoid.includes(owner)) return owner;
    }
    return owners[at]; // every owner was tried: the key's own
  }
}

/** What names an endpoint on the ring: stable across proxies and configs (its address). */
export interface Named {
  readonly key: string;
}

/** Factory for `ring_hash`; endpoints are placed on the ring by their `key` (address:port). */
export function ringHash<T extends Pickable>(candidates: readonly T[]): Balancer<T> {
  if (candidates.length === 0) return EMPTY_BALANCER;
  const names = candidates.map((c, i) => (c as unknown as Partial<Named>).key ?? String(i));
  return new RingHash(candidates, names);
}

registerBalancer('ring_hash', ringHash);
