// Least request with the power of two random choices: pick two distinct endpoints at random
// and take the one with fewer requests in flight (the first on a tie). Cheap, and avoids
// the herd that "always the global minimum" causes across many proxies. A retry's two
// choices are among the endpoints it has not tried yet.
import { countAllowed, EMPTY_BALANCER, nthAllowed, registerBalancer, type Balancer, type Pickable } from './balancer.js';

class LeastRequest<T extends Pickable> implements Balancer<T> {
  constructor(private readonly endpoints: readonly T[]) {}

  pick(_hash?: number, avoid?: readonly T[]): T | undefined {
    const list = this.endpoints;
    const n = list.length;
    if (avoid !== undefined && avoid.length > 0) {
      const allowed = countAllowed(list, avoid);
      if (allowed > 0 && allowed < n) return this.pickAllowed(avoid, allowed);
    }
    if (n === 1) return list[0];
    const i = Math.floor(Math.random() * n);
    // A second index different from i: offset 1..n-1 from it.
    const j = (i + 1 + Math.floor(Math.random() * (n - 1))) % n;
    const a = list[i]!;
    const b = list[j]!;
    return b.active < a.active ? b : a;
  }

  /** The two choices among the `allowed` endpoints not in `avoid`. */
  private pickAllowed(avoid: readonly T[], allowed: number): T {
    const list = this.endpoints;
    const i = Math.floor(Math.random() * allowed);
    const a = nthAllowed(list, avoid, i);
    if (allowed === 1) return a;
    const b = nthAllowed(list, avoid, (i + 1 + Math.floor(Math.random() * (allowed - 1))) % allowed);
    return b.active < a.active ? b : a;
  }
}

/** Factory for `least_request`. */
export function leastRequest<T extends Pickable>(candidates: readonly T[]): Balancer<T> {
  return candidates.length === 0 ? EMPTY_BALANCER : new LeastRequest(candidates);
}

registerBalancer('least_request', leastRequest);
