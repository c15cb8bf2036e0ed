// The load-balancer contract and its registry (grpc-js style): a policy name maps to a factory
// that builds an immutable picker over one snapshot of a cluster's endpoints. A new endpoint
// set builds a new picker; the hot path only calls pick().
//
// Endpoint weights are carried but not used yet: every policy treats endpoints as equal.

/** What a balancer needs to know about an endpoint: its current in-flight request count. */
export interface Pickable {
  readonly active: number;
}

/** One endpoint of a cluster as a balancer sees it. */
export interface BalancerEndpoint<T extends Pickable> {
  readonly target: T;
  readonly healthy: boolean;
  readonly weight: number;
}

/**
 * Picks an endpoint per request. MUST NOT allocate; MUST return undefined only for an empty set.
 * `hash` is the request's affinity key (ring hash); other policies ignore it. `avoid` holds the
 * endpoints a retry already tried (Envoy's previous_hosts predicate): a pick MUST NOT return one
 * of them while another candidate is left, and MUST fall back to its usual choice when none is.
 */
export interface Balancer<T extends Pickable> {
  pick(hash?: number, avoid?: readonly T[]): T | undefined;
}

/** Builds a balancer over `candidates`, the endpoints it may choose from (already health-filtered). */
export type BalancerFactory = <T extends Pickable>(candidates: readonly T[]) => Balancer<T>;

const registry = new Map<string, BalancerFactory>();

/** Makes `policy` available to createBalancer (a later registration replaces an earlier one). */
export function registerBalancer(policy: string, factory: BalancerFactory): void {
  registry.set(policy, factory);
}

/** Policies registered so far. */
export function registeredBalancers(): string[] {
  return [...registry.keys()];
}

/**
 * A balancer of `policy` over `endpoints`: only healthy ones, or all of them when none is
 * healthy (a cluster that reports nothing healthy is still better tried than refused).
 * Throws for an unregistered policy: the config decoder accepts only registered ones.
 */
export function createBalancer<T extends Pickable>(policy: string, endpoints: readonly BalancerEndpoint<T>[]): Balancer<T> {
  const factory = registry.get(policy);
  if (!factory) throw new Error(`load balancing policy ${JSON.stringify(policy)} is not registered; expected one of ${registeredBalancers().join(', ')}`);
  const healthy = endpoints.filter((e) => e.healthy).map((e) => e.target);
  return factory(healthy.length > 0 ? healthy : endpoints.map((e) => e.target));
}

/** How many of `list` are not in `avoid`. */
export function countAllowed<T>(list: readonly T[], avoid: readonly T[]): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) if (!avoid.includes(list[i]!)) n++;
  return n;
}

/** The `k`-th (from 0) member of `list` not in `avoid`; k MUST be below countAllowed(list, avoid). */
export function nthAllowed<T>(list: readonly T[], avoid: readonly T[], k: number): T {
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (!avoid.includes(e) && k-- === 0) return e;
  }
  throw new Error(`nthAllowed: index past the ${countAllowed(list, avoid)} allowed endpoints`);
}

/** The picker for an empty endpoint set. */
export const EMPTY_BALANCER: Balancer<never> = { pick: () => undefined };
