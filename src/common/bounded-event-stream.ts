// A server-sent-event stream to one client that may read slowly or not at all: what waits in
// memory for it is bounded. Events that find the buffer full are dropped and counted; once the
// client catches up, it is told how many it missed (an `event: dropped`) before the next event.
import type { ServerResponse } from 'node:http';

/** What may wait in memory for one subscriber (the response's and its socket's buffers). */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;

export interface BoundedEventStreamOptions {
  maxBufferedBytes?: number;
  /** Called for every event dropped (to count it where the operator sees it). */
  onDrop?: () => void;
}

/**
 * Invariant: nothing is written while `res.writableLength` exceeds the bound, so memory held
 * for a client that does not read stays under about the bound plus one event.
 */
export class BoundedEventStream {
  readonly #res: ServerResponse;
  readonly #max: number;
  readonly #onDrop: (() => void) | undefined;
  /** Dropped since the client was last told. */
  #pendingDrops = 0;
  /** Dropped over the stream's life. */
  dropped = 0;

  constructor(res: ServerResponse, opts: BoundedEventStreamOptions = {}) {
    this.#res = res;
    this.#max = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#onDrop = opts.onDrop;
  }

  /** True while the client keeps up (an event written now would be buffered, not dropped). */
  get writable(): boolean {
    return !this.#res.destroyed && this.#res.writableLength <= this.#max;
  }

  /**
   * Sends one event whose data `render` produces (called only when it will be written, so a
   * dropped event costs no serialization). False when it was dropped.
   */
  send(render: () => string, event?: string): boolean {
    if (!this.writable) {
      this.dropped++;
      this.#pendingDrops++;
      this.#onDrop?.();
      return false;
    }
    const notice = this.#pendingDrops > 0 ? `event: dropped\ndata: ${JSON.stringify({ dropped: this.#pendingDrops })}\n\n` : '';
    this.#pendingDrops = 0;
    this.#res.write(`${notice}${event ? `event: ${event}\n` : ''}data: ${render()}\n\n`);
    return true;
  }

  /** A comment line (heartbeat), skipped while the client is behind. */
  comment(text: string): void {
    if (this.writable) this.#res.write(`: ${text}\n\n`);
  }
}
