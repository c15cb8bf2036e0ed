// When `trellis run` starts its proxy again after the proxy died (the app keeps running, as
// beside a Kubernetes native sidecar): exponential delays up to a ceiling, reset once a proxy
// has run long enough to count as healthy, so a crash loop does not spin.

export interface RestartPolicy {
  /** The delay after the first death. */
  readonly initialMs: number;
  /** The delay never grows past this. */
  readonly maxMs: number;
  /** A proxy that ran at least this long before dying starts the delays over. */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialMs: 250, maxMs: 10_000, resetAfterMs: 60_000 };

/** Invariant: `deaths` counts the proxy's deaths since the last one after a long enough run. */
export class RestartBackoff {
  readonly #policy: RestartPolicy;
  #deaths = 0;

  constructor(policy: RestartPolicy = DEFAULT_RESTART_POLICY) {
    this.#policy = policy;
  }

  /** The proxy died after running `ranMs`: how long to wait before starting it again. */
  next(ranMs: number): number {
    if (ranMs >= this.#policy.resetAfterMs) this.#deaths = 0;
    const delay = Math.min(this.#policy.maxMs, this.#policy.initialMs * 2 ** Math.min(this.#deaths, 30));
    this.#deaths++;
    return delay;
  }
}
