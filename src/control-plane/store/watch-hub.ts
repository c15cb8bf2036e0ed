// Watchers and the bounded in-memory event history that lets a watcher resume from a revision.
import { createLogger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import { watchExpired, type StoreError } from './errors.js';
import type { Watch, WatchEvent, WatchListener } from './store.js';

const log = createLogger('control-plane.store');

export class WatchHub {
  private readonly history: WatchEvent[] = [];
  private readonly listeners = new Set<WatchListener>();
  /**
   * Invariant: the history holds every event with revision > `floor`, and none at or below it.
   * Starts at the revision the store opened at (events before it were never seen by this process).
   */
  private floor: number;

  constructor(
    startRevision: number,
    private readonly maxEvents: number,
  ) {
    this.floor = startRevision;
  }

  /** Delivers one committed batch's events (all of one revision) to every watcher and keeps them. */
  publish(events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    this.history.push(...events);
    this.trim();
    for (const listener of [...this.listeners]) {
      for (const e of events) {
        if (!this.listeners.has(listener)) break;
        deliver(listener, e);
      }
    }
  }

  watch(fromRevision: number, listener: WatchListener): Result<Watch, StoreError> {
    if (fromRevision < this.floor) return err(watchExpired(fromRevision, this.floor));
    const handle: Watch = {
      close: () => {
        this.listeners.delete(listener);
      },
    };
    this.listeners.add(listener);
    for (const e of this.history) {
      if (e.revision <= fromRevision) continue;
      if (!this.listeners.has(listener)) break;
      deliver(listener, e);
    }
    return ok(handle);
  }

  closeAll(): void {
    this.listeners.clear();
  }

  /** Drops the oldest revisions, whole, until at most `maxEvents` remain (a batch larger than that is kept whole). */
  private trim(): void {
    let drop = 0;
    while (this.history.length - drop > this.maxEvents) {
      const rev = this.history[drop]!.revision;
      let end = drop;
      while (end < this.history.length && this.history[end]!.revision === rev) end++;
      if (end === this.history.length) break;
      drop = end;
      this.floor = rev;
    }
    if (drop > 0) this.history.splice(0, drop);
  }
}

/** A throwing listener is a bug in the watcher; it must not break the store or other watchers. */
function deliver(listener: WatchListener, event: WatchEvent): void {
  try {
    listener(event);
  } catch (e) {
    log.error({ err: e, revision: event.revision }, 'a store watcher threw while handling an event; the event is not redelivered');
  }
}
