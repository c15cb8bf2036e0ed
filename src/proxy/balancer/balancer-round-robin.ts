// Round robin: each pick takes the next endpoint in order, starting at a random offset so
// that many proxies with the same endpoint list do not move in lockstep.
import { EMPTY_BALANCER, registerBalancer, type Balancer, type Pickable } from './balancer.js';

class RoundRobin<T extends Pickable> implements Balancer<T> {
  private next: number;

  constructor(private readonly endpoints: readonly T[]) {
    this.next = Math.floor(Math.random() * endpoints.length);
  }

  pick(): T | undefined {
    const list = this.endpoints;
    const i = this.next;
    this.next = i + 1 === list.length ? 0 : i + 1;
    return list[i];
  }
}

/** Factory for `round_robin`. */
export function roundRobin<T extends Pickable>(candidates: readonly T[]): Balancer<T> {
  return candidates.length === 0 ? EMPTY_BALANCER : new RoundRobin(candidates);
}

registerBalancer('round_robin', roundRobin);
