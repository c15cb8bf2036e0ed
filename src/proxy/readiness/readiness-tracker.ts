// Whether this workload's endpoint may take traffic: `ready` once the sidecar serves its
// config and the app passes its readiness check, `not-ready` after `failureThreshold` failed
// checks in a row (and back on the next success), `draining` for good once shutdown begins.
// Every change goes to `report` (the xDS client, which tells the control plane).
import type { EndpointReadiness } from '../../xds/endpoint-readiness.js';
import type { AppProbe } from './app-probe.js';

/** How often the app is checked while it is not ready (the operator's period applies once it is). */
export const NOT_READY_PERIOD_MS = 200;

export interface ReadinessTrackerOptions {
  /** The app's check; none: the app counts as ready as soon as the sidecar serves. */
  readonly probe?: AppProbe;
  /** True once the sidecar has its config and its listeners bound. */
  sidecarServes(): boolean;
  /** Called on every change of state, and once on start. */
  report(state: EndpointReadiness, reason: string): void;
  /** Between two checks while the app is ready. */
  readonly periodMs: number;
  /** Failed checks in a row that take a ready app out. */
  readonly failureThreshold: number;
}

export interface ReadinessStatus {
  readonly state: EndpointReadiness;
  /** Why it is not ready (the last failed check, or the sidecar waiting for config). */
  readonly reason: string;
}

/** Invariant: once draining, the state never changes again and no check runs. */
export class ReadinessTracker {
  readonly #opts: ReadinessTrackerOptions;
  #state: EndpointReadiness = 'not-ready';
  #reason = 'starting';
  #appReady: boolean;
  #appReason = '';
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: ReadinessTrackerOptions) {
    this.#opts = opts;
    this.#appReady = opts.probe === undefined;
  }

  /** Reports the first state and starts checking the app. */
  start(): void {
    this.#opts.report(this.#state, this.#reason);
    this.#evaluate();
    if (this.#opts.probe) this.#schedule(0);
  }

  /** The sidecar's state may have changed (a config was applied). */
  update(): void {
    this.#evaluate();
  }

  /** Shutdown began: the endpoint is withdrawn for good. */
  drain(): void {
    this.#stop();
    this.#set('draining', 'shutting down');
  }

  /** Stops checking (the state stays as it is). */
  close(): void {
    this.#stop();
  }

  status(): ReadinessStatus {
    return { state: this.#state, reason: this.#reason };
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), ms);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const r = await this.#opts.probe!();
    if (this.#stopped) return;
    if (r.ok) {
      this.#failures = 0;
      this.#appReady = true;
    } else {
      this.#failures++;
      this.#appReason = `the app's readiness check failed: ${r.reason}`;
      if (this.#failures >= this.#opts.failureThreshold) this.#appReady = false;
    }
    this.#evaluate();
    this.#schedule(this.#appReady ? this.#opts.periodMs : Math.min(this.#opts.periodMs, NOT_READY_PERIOD_MS));
  }

  #evaluate(): void {
    if (this.#stopped) return;
    if (!this.#opts.sidecarServes()) this.#set('not-ready', 'the sidecar is waiting for its config');
    else if (!this.#appReady) this.#set('not-ready', this.#appReason || "waiting for the app's first readiness check");
    else this.#set('ready', '');
  }

  #set(state: EndpointReadiness, reason: string): void {
    const changed = state !== this.#state;
    this.#state = state;
    this.#reason = reason;
    if (changed) this.#opts.report(state, reason);
  }
}
