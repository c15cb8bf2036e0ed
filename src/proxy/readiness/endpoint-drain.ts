// The first half of a sidecar's shutdown: withdraw the endpoint (callers are told through the
// control plane), give callers the drain delay to apply it while still serving what they send,
// then stop accepting inbound connections and let open ones finish.
import type { ReadinessTracker } from './readiness-tracker.js';

export interface EndpointDrainOptions {
  readonly readiness: Pick<ReadinessTracker, 'status' | 'drain'>;
  /** How long callers get to drop the withdrawn endpoint. */
  readonly delayMs: number;
  /** Stops accepting inbound connections; resolves once open ones have finished (bounded by the caller). */
  drainInbound(): Promise<void>;
}

export interface EndpointDrain {
  /** Runs the drain once; later calls get the same promise. */
  readonly drain: () => Promise<void>;
  /** Ends the delay now (a repeated stop signal: the operator does not want to wait). */
  readonly hurry: () => void;
}

export function endpointDrain(opts: EndpointDrainOptions): EndpointDrain {
  let drained: Promise<void> | undefined;
  let hurried = false;
  let endDelay = () => {};
  const run = async () => {
    // Callers have the endpoint only if it was ready: otherwise there is nothing to wait for.
    const callersHaveIt = opts.readiness.status().state === 'ready';
    opts.readiness.drain();
    if (callersHaveIt && !hurried) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.delayMs);
        endDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await opts.drainInbound();
  };
  return {
    drain: () => (drained ??= run()),
    hurry: () => {
      hurried = true;
      endDelay();
    },
  };
}
