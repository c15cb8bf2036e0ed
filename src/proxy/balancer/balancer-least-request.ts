// Least request with the power of two random choices: pick two distinct endpoints at random
// and take the one with fewer requests in flight (the first on a tie). Cheap, and avoids
// the herd that "always the global minimum" causes across many proxies.
import { EMPTY_BALANCER, registerBalancer, type Balancer, type Pickable } from './balancer.js';

class LeastRequest<T extends Pickable> implements Balancer<T> {
  constructor(private readonly endpoints: readonly T[]) {}

  pick(): T | undefined {
    const list = this.endpoints;
    const n = list.length;
    if (n === 1) return list[0];
    const i = Math.floor(Math.random() * n);
    // A second index different from i: offset 1..n-1 from it.
    const j = (i + 1 + Math.floor(Math.random() * (n - 1))) % n;
    const a = list[i]!;
    const b = list[j]!;
    return b.active < a.active ? b : a;
  }
}

/** Factory for `least_request`. */
export function leastRequest<T extends Pickable>(candidates: readonly T[]): Balancer<T> {
  return candidates.length === 0 ? EMPTY_BALANCER : new LeastRequest(candidates);
}

registerBalancer('least_request', leastRequest);
