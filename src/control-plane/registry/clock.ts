// Time and timers behind an interface, so the registry's grace period can be tested
// without waiting for it.

/** A timer handle returned by Clock.setTimeout. */
export type TimerHandle = unknown;

/** Where the registry reads the time and schedules its grace-period timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. Its timers are unref'd: a pending grace period never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
