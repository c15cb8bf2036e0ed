// A request body kept for retries: forwarders record what they stream upstream (up to
// MAX_REPLAY_BYTES), and a retry writes the recording to its new attempt. A body that is larger,
// or not complete when an attempt fails, cannot be replayed, so that request is not retried.

/** Bodies up to this size are kept for retries (Envoy's per-request buffer limit is similar). */
export const MAX_REPLAY_BYTES = 64 * 1024;

export class BodyReplay {
  chunks: Buffer[] = [];
  bytes = 0;
  /** The whole body arrived from the client. */
  complete = false;
  /** The body was larger than MAX_REPLAY_BYTES (its chunks were let go). */
  overflow = false;
  /** The first attempt started streaming; later attempts replay. */
  started = false;

  record(chunk: Buffer): void {
    if (this.overflow) return;
    this.bytes += chunk.length;
    if (this.bytes > MAX_REPLAY_BYTES) {
      this.overflow = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }

  end(): void {
    this.complete = true;
  }

  /** True when a new attempt can send the whole body again. */
  get replayable(): boolean {
    return this.complete && !this.overflow;
  }
}
