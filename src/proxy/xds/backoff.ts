// Reconnect delays for the xDS stream: exponential with full jitter, so proxies that lost
// the same control plane do not all come back in the same instant.

export interface BackoffOptions {
  /** The ceiling of the first delay. */
  initialMs: number;
  /** The ceiling never grows past this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000 };

/** The delay before reconnect attempt `attempt` (0-based): uniform in [0, min(maxMs, initialMs * 2^attempt)). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
