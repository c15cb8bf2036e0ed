// Loads every built-in policy into the registry; import this (not the policy files) to build balancers.
import './balancer-round-robin.js';
import './balancer-least-request.js';
import './balancer-random.js';
import './balancer-ring-hash.js';

export { createBalancer, registerBalancer, registeredBalancers, EMPTY_BALANCER } from './balancer.js';
export type { Balancer, BalancerEndpoint, BalancerFactory, Pickable } from './balancer.js';
export { WeightedChoice } from './weighted-choice.js';
export { hash32 } from './hash-key.js';
