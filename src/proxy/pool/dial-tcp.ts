// How the proxy dials its own connections: the options plain TCP and mTLS dials share, and the
// plain TCP dial. A caller that relays bytes can have a socket read into buffers of its own
// (node's `onread`) instead of 'data' events, for which node allocates a new buffer per read
// that only the next GC frees: a bulk transfer then held tens of MB of such buffers.
import net from 'node:net';

/** Where a dialled socket's reads go instead of 'data' events ('end', 'error' and 'close' come as usual). */
export interface ReadInto {
  /**
   * Where the next read goes: a buffer (of `bytes` when it is a new one) or the free end of one.
   * Node asks before the first read and again after every read, so reads can land one after
   * another, and a buffer a write still holds can be swapped for another.
   */
  nextBuffer(bytes: number): Buffer;
  /** `bytes` arrived at the start of `buffer`; false stops reading until `resume()`. */
  onRead(bytes: number, buffer: Buffer): boolean;
}

export interface DialOptions {
  /** Keep the socket writable after the peer's FIN (a relay passes the FIN on and goes on writing). */
  readonly allowHalfOpen?: boolean;
  readonly readInto?: ReadInto;
}

/** The size of a read buffer: what libuv reads from a TCP socket at once (TLS hands on 16 KiB records, several to a buffer). */
const READ_BUFFER_BYTES = 64 * 1024;

/** Node's `onread` socket option for `readInto`; undefined: 'data' events. */
export function onReadOption(readInto: ReadInto | undefined): net.OnReadOpts | undefined {
  if (readInto === undefined) return undefined;
  return { buffer: () => readInto.nextBuffer(READ_BUFFER_BYTES), callback: (n, buffer) => readInto.onRead(n, buffer as Buffer) };
}

/** Opens a plain TCP connection (caller listens for 'connect'). */
export function dialTcp(host: string, port: number, opts: DialOptions = {}): net.Socket {
  const onread = onReadOption(opts.readInto);
  return net.connect({ host, port, noDelay: true, allowHalfOpen: opts.allowHalfOpen ?? false, ...(onread ? { onread } : {}) });
}
