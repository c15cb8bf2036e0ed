// Random: each pick is uniform over the endpoints (no state, no coordination between proxies);
// a retry's pick is uniform over the endpoints it has not tried yet.
import { countAllowed, EMPTY_BALANCER, nthAllowed, registerBalancer, type Balancer, type Pickable } from './balancer.js';

class RandomPick<T extends Pickable> implements Balancer<T> {
  constructor(private readonly endpoints: readonly T[]) {}

  pick(_hash?: number, avoid?: readonly T[]): T | undefined {
    const list = this.endpoints;
    if (avoid !== undefined && avoid.length > 0) {
      const allowed = countAllowed(list, avoid);
      if (allowed > 0) return nthAllowed(list, avoid, Math.floor(Math.random() * allowed));
    }
    return list[Math.floor(Math.random() * list.length)];
  }
}

/** Factory for `random`. */
export function random<T extends Pickable>(candidates: readonly T[]): Balancer<T> {
  return candidates.length === 0 ? EMPTY_BALANCER : new RandomPick(candidates);
}

registerBalancer('random', random);
