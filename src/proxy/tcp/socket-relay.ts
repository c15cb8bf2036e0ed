// A relay of opaque bytes between two connected sockets, both ways with backpressure: a FIN from
// one side ends the write side of the other after the bytes before it, both sockets are
// destroyed when either errors or is reset, and the end is reported once, when both have
// closed. The upstream is read into the relay's own buffers when it was dialled that way
// (ReadIntoCopy), else piped like the downstream. The TCP stack's terminal relays with it, and
// so does an HTTP/1.1 exchange the upstream switched to another protocol (101, WebSocket).
import type net from 'node:net';
import type { ReadIntoCopy } from './read-into-copy.js';

/** Told once when a relay is over. */
export interface RelayOwner {
  /** Both sockets closed; `error`: why the relay ended abnormally, if it did. */
  relayEnded(error: Error | undefined): void;
}

export class SocketRelay {
  private failure: Error | undefined = undefined;
  /** Sockets still open; the end is reported when it reaches 0. */
  private open = 2;

  constructor(
    private readonly down: net.Socket,
    private readonly upstream: net.Socket,
    private readonly owner: RelayOwner,
  ) {}

  /** Starts relaying; `fromUpstream`: the upstream was dialled with it as its `readInto`. */
  start(fromUpstream: ReadIntoCopy | undefined): void {
    const { down, upstream } = this;
    const onError = (e: Error) => this.fail(e);
    down.on('error', onError);
    upstream.on('error', onError);
    // A close without error while the other side still reads (e.g. a reset) must end both.
    down.once('close', () => this.closed(down, upstream));
    upstream.once('close', () => this.closed(upstream, down));
    down.resume();
    down.pipe(upstream);
    if (fromUpstream !== undefined) fromUpstream.start(upstream);
    else {
      upstream.resume();
      upstream.pipe(down);
    }
  }

  /** Ends the relay now (both sockets destroyed); its end is still reported once they close. */
  fail(e: Error): void {
    this.failure ??= e;
    this.down.destroy();
    this.upstream.destroy();
  }

  private closed(side: net.Socket, other: net.Socket): void {
    if (!other.destroyed && (side.readableEnded === false || other.writableEnded === false)) other.destroy();
    if (--this.open > 0) return;
    this.owner.relayEnded(this.failure);
  }
}
