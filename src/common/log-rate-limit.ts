// Bounds how many lines one key (e.g. a policy) may log per second, so that a flood of events
// an attacker controls cannot flood the log. Lines over the bound are counted, not lost: the
// next admitted line of the key carries the count, and a window that ends with suppressed lines
// and no later line reports them once through `onSuppressed`.

/** Keys tracked at most; past this (a bug or a config with very many keys) the oldest window is forgotten. */
const MAX_KEYS = 10_000;

interface Window {
  start: number;
  admitted: number;
  suppressed: number;
  timer: NodeJS.Timeout | undefined;
}

export class LogRateLimit {
  private readonly windows = new Map<string, Window>();

  /**
   * `perSecond` lines per key per second; `onSuppressed(key, count)` reports lines suppressed
   * in a window no later line reported. `now` is in milliseconds (tests pass a fake clock).
   */
  constructor(
    private readonly perSecond: number,
    private readonly onSuppressed: (key: string, count: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** False when a line for `key` must not be written now; otherwise how many were suppressed since the last one written. */
  admit(key: string): number | false {
    const t = this.now();
    let w = this.windows.get(key);
    if (w === undefined) {
      if (this.windows.size >= MAX_KEYS) this.forget(this.windows.keys().next().value!);
      w = { start: t, admitted: 0, suppressed: 0, timer: undefined };
      this.windows.set(key, w);
    } else if (t - w.start >= 1000) {
      w.start = t;
      w.admitted = 0;
    }
    if (w.admitted < this.perSecond) {
      w.admitted++;
      const suppressed = w.suppressed;
      w.suppressed = 0;
      if (w.timer !== undefined) {
        clearTimeout(w.timer);
        w.timer = undefined;
      }
      return suppressed;
    }
    if (w.suppressed++ === 0) {
      const window = w;
      window.timer = setTimeout(() => this.report(key, window), Math.max(0, 1000 - (t - w.start)));
      window.timer.unref();
    }
    return false;
  }

  private report(key: string, w: Window): void {
    w.timer = undefined;
    if (w.suppressed === 0) return;
    const count = w.suppressed;
    w.suppressed = 0;
    this.onSuppressed(key, count);
  }

  private forget(key: string): void {
    const w = this.windows.get(key);
    if (w?.timer !== undefined) clearTimeout(w.timer);
    this.windows.delete(key);
  }
}
