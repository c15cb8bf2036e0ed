// One direction of a relay: what a socket dialled with this as its `readInto` reads goes from
// the buffer it landed in straight to the other socket, so relayed bytes cost no memory per read.
// Reads land one after another in one buffer and go out as one write when the buffer is nearly
// full or at the end of the event loop's turn (TLS hands on 16 KiB records one by one: several
// make one write, not one syscall each). Bytes a write holds are never read into: while a write
// is in flight the source is not read (backpressure), and a read that still comes (node's TLS
// hands on the rest of what it has already decrypted) goes past them or into another buffer.
// At most a few buffers per direction, whatever the bytes.
import type net from 'node:net';
import type { ReadInto } from '../pool/dial-tcp.js';

// Buffers are allocUnsafeSlow: memory of their own, not a slice of node's pool that a long-lived
// relay would keep whole.

/** A read is given at least this much room (a TLS record), else the next one starts a buffer afresh. */
const MIN_READ_BYTES = 16 * 1024;

export class ReadIntoCopy implements ReadInto {
  /** The buffer reads land in, one after another. */
  private current: Buffer | undefined = undefined;
  /** Invariant: the next read lands at `current[end]` (where the last `nextBuffer` pointed). */
  private end = 0;
  /** Invariant: `current[batchStart, end)` is read and not yet written. */
  private batchStart = 0;
  /** The buffer before `current`, while writes in flight may still hold bytes of it. */
  private retired: Buffer | undefined = undefined;
  /** A buffer no write holds, taken instead of a new one. */
  private spare: Buffer | undefined = undefined;
  /** Reads stopped until the writes in flight complete. */
  private stopped = false;
  private flushScheduled = false;
  private from: net.Socket | undefined = undefined;

  constructor(
    private readonly to: net.Socket,
    private readonly minReadBytes = MIN_READ_BYTES,
  ) {}

  /** Starts reading `from` (dialled with this as its `readInto`); its FIN ends `to` after the bytes before it. */
  start(from: net.Socket): void {
    this.from = from;
    from.once('end', () => {
      this.flush();
      this.to.end();
    });
    from.resume();
  }

  nextBuffer(bytes: number): Buffer {
    if (this.current === undefined) this.current = Buffer.allocUnsafeSlow(bytes);
    else if (this.current.length - this.end < this.minReadBytes) {
      // No room left; the batch was written when the last read filled it. Start over in this
      // buffer when no write holds any of it, else in another.
      if (this.to.writableLength > 0) {
        this.retired = this.current;
        this.current = this.spare ?? Buffer.allocUnsafeSlow(this.current.length);
        this.spare = undefined;
      }
      this.end = this.batchStart = 0;
    }
    return this.end === 0 ? this.current : this.current.subarray(this.end);
  }

  onRead(bytes: number, buffer: Buffer): boolean {
    const current = this.current!;
    if (buffer.buffer !== current.buffer || buffer.byteOffset !== current.byteOffset + this.end) {
      // The read did not land where nextBuffer pointed: it may have overwritten bytes a write holds.
      this.to.destroy(new Error('the relay read into a buffer it did not give for that read (the runtime did not take the next read buffer)'));
      return false;
    }
    this.end += bytes;
    if (current.length - this.end < this.minReadBytes) return this.flush();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushLater);
    }
    return !this.stopped;
  }

  /** Writes the batch; false (and reads stopped) while writes are in flight. */
  private flush(): boolean {
    if (this.end > this.batchStart) {
      this.to.write(this.current!.subarray(this.batchStart, this.end), this.written);
      this.batchStart = this.end;
    }
    if (this.to.writableLength === 0) return true;
    this.stopped = true;
    return false;
  }

  /** At the end of the loop's turn: what the reads of this turn brought, in one write. */
  private readonly flushLater = (): void => {
    this.flushScheduled = false;
    if (!this.flush()) this.from?.pause();
  };

  /** After each write: once none is in flight, no buffer is held and the source is read again. */
  private readonly written = (): void => {
    if (this.to.writableLength > 0) return;
    if (this.retired !== undefined) {
      this.spare = this.retired;
      this.retired = undefined;
    }
    if (!this.stopped) return;
    this.stopped = false;
    this.from?.resume();
  };
}
