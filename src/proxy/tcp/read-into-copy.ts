// One direction of a relay: what a socket dialled with this as its `readInto` reads goes from
// the buffer it landed in straight to the other socket, so relayed bytes cost no memory per read.
// A buffer is a write's until that write completes: while any write is in flight the source is
// not read (backpressure), and a read that still comes (TLS hands on the rest of what it has
// already decrypted) goes into another buffer. A few buffers per direction, whatever the bytes.
import type net from 'node:net';
import type { ReadInto } from '../pool/dial-tcp.js';

export class ReadIntoCopy implements ReadInto {
  /** The buffer the source reads into next. */
  private current: Buffer | undefined = undefined;
  /** Invariant: the buffer the last write still in flight holds bytes of; undefined when no write is in flight. */
  private held: Buffer | undefined = undefined;
  /** A buffer no write holds any more, taken at the next swap instead of a new one. */
  private spare: Buffer | undefined = undefined;
  private from: net.Socket | undefined = undefined;

  constructor(private readonly to: net.Socket) {}

  /** Starts reading `from` (dialled with this as its `readInto`); its FIN ends `to` after the bytes before it. */
  start(from: net.Socket): void {
    this.from = from;
    from.once('end', () => this.to.end());
    from.resume();
  }

  nextBuffer(bytes: number): Buffer {
    if (this.current === undefined || this.current === this.held) {
      this.current = this.spare ?? Buffer.allocUnsafe(bytes);
      this.spare = undefined;
    }
    return this.current;
  }

  onRead(bytes: number, buffer: Buffer): boolean {
    const to = this.to;
    if (buffer === this.held) {
      // The source read into a buffer a write still holds: those bytes are lost, so is the stream.
      to.destroy(new Error('the relay read into a buffer still being written (the runtime did not take the next read buffer)'));
      return false;
    }
    to.write(bytes === buffer.length ? buffer : buffer.subarray(0, bytes), this.written);
    if (to.writableLength === 0) return true; // written through at once: the buffer is free again
    this.held = buffer;
    return false;
  }

  /** After each write: once none is in flight, the held buffer is free and the source is read again. */
  private readonly written = (): void => {
    if (this.held === undefined || this.to.writableLength > 0) return;
    this.spare = this.held;
    this.held = undefined;
    this.from?.resume();
  };
}
