// How the proxy dials its own connections: the options plain TCP and mTLS dials share, and the
// plain TCP dial. A caller that relays bytes can have a socket read into buffers of its own
// (node's `onread`) instead of 'data' events, for which node allocates a new buffer per read
// that only the next GC frees: a bulk transfer then held tens of MB of such buffers.
import net from 'node:net';

/** Where a dialled socket's reads go instead of 'data' events ('end', 'error' and 'close' come as usual). */
export interface ReadInto {
  /**
   * The buffer the next read goes into, of `bytes` (what the transport hands on at most at once).
   * Node asks before the first read and again after every read, so a buffer a write still holds
   * can be swapped for another.
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

/** A plain TCP read takes up to 64 KiB (libuv's read size). */
const TCP_READ_BYTES = 64 * 1024;
/** TLS hands on clear text one record at a time: 16 KiB at most. */
export const TLS_READ_BYTES = 16 * 1024;

/** Node's `onread` socket option for `readInto` with reads of `bytes`; undefined: 'data' events. */
export function onReadOption(readInto: ReadInto | undefined, bytes: number): net.OnReadOpts | undefined {
  if (readInto === undefined) return undefined;
  return { buffer: () => readInto.nextBuffer(bytes), callback: (n, buffer) => readInto.onRead(n, buffer as Buffer) };
}

/** Opens a plain TCP connection (caller listens for 'connect'). */
export function dialTcp(host: string, port: number, opts: DialOptions = {}): net.Socket {
  const onread = onReadOption(opts.readInto, TCP_READ_BYTES);
  return net.connect({ host, port, noDelay: true, allowHalfOpen: opts.allowHalfOpen ?? false, ...(onread ? { onread } : {}) });
}
