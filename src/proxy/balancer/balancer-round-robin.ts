// Round robin: each pick takes the next endpoint in order, starting at a random offset so
// that many proxies with the same endpoint list do not move in lockstep. A retry's pick goes
// on in order past the endpoints it already tried.
import { EMPTY_BALANCER, registerBalancer, type Balancer, type Pickable } from './balancer.js';

class RoundRobin<T extends Pickable> implements Balancer<T> {
  private next: number;

  constructor(private readonly endpoints: readonly T[]) {
    this.next = Math.floor(Math.random() * endpoints.length);
  }

  pick(_hash?: number, avoid?: readonly T[]): T | undefined {
    const list = this.endpoints;
    const n = list.length;
    let i = this.next;
    if (avoid !== undefined && avoid.length > 0) {
      // On in order past the endpoints already tried; when all were, the usual next one.
      for (let t = 0; t < n; t++) {
        const k = (this.next + t) % n;
        if (!avoid.includes(list[k]!)) {
          i = k;
          break;
        }
      }
    }
    this.next = i + 1 === n ? 0 : i + 1;
    return list[i];
  }
}

/** Factory for `round_robin`. */
export function roundRobin<T extends Pickable>(candidates: readonly T[]): Balancer<T> {
  return candidates.length === 0 ? EMPTY_BALANCER : new RoundRobin(candidates);
}

registerBalancer('round_robin', roundRobin);
