// Random: each pick is uniform over the endpoints (no state, no coordination between proxies).
import { EMPTY_BALANCER, registerBalancer, type Balancer, type Pickable } from './balancer.js';

class RandomPick<T extends Pickable> implements Balancer<T> {
  constructor(private readonly endpoints: readonly T[]) {}

  pick(): T | undefined {
    return this.endpoints[Math.floor(Math.random() * this.endpoints.length)];
  }
}

/** Factory for `random`. */
export function random<T extends Pickable>(candidates: readonly T[]): Balancer<T> {
  return candidates.length === 0 ? EMPTY_BALANCER : new RandomPick(candidates);
}

registerBalancer('random', random);
