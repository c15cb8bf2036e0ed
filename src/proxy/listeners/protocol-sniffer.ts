// Tells HTTP/2 with prior knowledge from HTTP/1.x on a fresh connection by its first bytes
// (the 24-byte client preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`), then puts the bytes back so
// the chosen server reads the connection from its start.
import type net from 'node:net';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type SniffedProtocol = 'http/1.1' | 'h2';

/** How `bytes` (the connection's start so far) classifies: undefined while it could still be either. */
export function classify(bytes: Buffer): SniffedProtocol | undefined {
  const n = Math.min(bytes.length, H2_PREFACE.length);
  if (bytes.compare(H2_PREFACE, 0, n, 0, n) !== 0) return 'http/1.1';
  return n === H2_PREFACE.length ? 'h2' : undefined;
}

/**
 * Waits for enough bytes on `socket` to classify it, then calls `done` with the bytes back in
 * the socket's read buffer (and given to `done`) and the socket paused. A socket that closes
 * or errors first is destroyed, one that has not classified within `timeoutMs` of the call
 * (however slowly it trickles) too, after `timedOut`; `done` is then never called.
 */
export function sniffProtocol(socket: net.Socket, timeoutMs: number, done: (protocol: SniffedProtocol, first: Buffer) => void, timedOut?: () => void): void {
  let seen: Buffer | undefined;
  const onData = (chunk: Buffer) => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const protocol = classify(seen);
    if (protocol === undefined) return;
    cleanup();
    socket.pause();
    socket.unshift(seen);
    done(protocol, seen);
  };
  const onGone = () => {
    cleanup();
    socket.destroy();
  };
  const onTimeout = () => {
    timedOut?.();
    onGone();
  };
  const timer = setTimeout(onTimeout, timeoutMs);
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onGone);
    socket.off('end', onGone);
  };
  socket.on('data', onData);
  socket.on('error', onGone);
  socket.on('end', onGone);
}

// ---- Protocol detection on captured connections (transparent mode) ----

/** What the first bytes of a captured connection say: HTTP/1.x, the HTTP/2 preface, a TLS ClientHello, or something else. */
export type Detected = 'http/1.1' | 'h2c' | 'tls' | 'opaque';

const TLS_RECORD_HEADER = 5;
const ALPN_EXTENSION = 16;

/**
 * The protocols a ClientHello offers by ALPN (RFC 7301), in its order; empty when it offers
 * none or the record cannot be read (a ClientHello split over records, a malformed one).
 * `bytes` starts with the TLS record that `detect` called 'tls'. What the capture listener's
 * chains match as application protocols, as Envoy's tls_inspector reports them.
 */
export function clientHelloAlpn(bytes: Buffer): string[] {
  const end = Math.min(bytes.length, TLS_RECORD_HEADER + bytes.readUInt16BE(3));
  // Handshake header (type, 3-byte length), client version (2), random (32).
  let at = TLS_RECORD_HEADER + 4 + 2 + 32;
  const skip = (lengthBytes: 1 | 2): boolean => {
    if (at + lengthBytes > end) return false;
    at += lengthBytes + (lengthBytes === 1 ? bytes[at]! : bytes.readUInt16BE(at));
    return at <= end;
  };
  // Session id, cipher suites, compression methods.
  if (!skip(1) || !skip(2) || !skip(1) || at + 2 > end) return [];
  const extensionsEnd = Math.min(end, at + 2 + bytes.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = bytes.readUInt16BE(at);
    const length = bytes.readUInt16BE(at + 2);
    at += 4;
    if (at + length > extensionsEnd) return [];
    if (type === ALPN_EXTENSION && length >= 2) {
      const out: string[] = [];
      const listEnd = Math.min(at + length, at + 2 + bytes.readUInt16BE(at));
      for (let p = at + 2; p < listEnd;) {
        const n = bytes[p]!;
        if (n === 0 || p + 1 + n > listEnd) return [];
        out.push(bytes.toString('latin1', p + 1, p + 1 + n));
        p += 1 + n;
      }
      return out;
    }
    at += length;
  }
  return [];
}

/** Longest HTTP/1 request line start looked at before the connection counts as opaque. */
const MAX_REQUEST_LINE = 4096;

/** How `bytes` (the start of a connection) classifies; undefined while more bytes could change the answer. */
export function detect(bytes: Buffer): Detected | undefined {
  if (bytes.length === 0) return undefined;
  // TLS record: handshake (22), version 3.x, then the handshake type at offset 5: ClientHello (1).
  // TLS waits for the whole first record, so that its ALPN can be read (clientHelloAlpn).
  if (bytes[0] === 0x16) {
    if (bytes.length < 6) return bytes.length < 2 || bytes[1] === 0x03 ? undefined : 'opaque';
    if (bytes[1] !== 0x03 || bytes[5] !== 0x01) return 'opaque';
    return bytes.length >= TLS_RECORD_HEADER + bytes.readUInt16BE(3) ? 'tls' : undefined;
  }
  const n = Math.min(bytes.length, H2_PREFACE.length);
  if (bytes.compare(H2_PREFACE, 0, n, 0, n) === 0) return n === H2_PREFACE.length ? 'h2c' : undefined;
  // HTTP/1.x: METHOD SP request-target SP HTTP/1.x CRLF.
  const space = bytes.indexOf(0x20);
  const method = bytes.subarray(0, space === -1 ? Math.min(bytes.length, 21) : space);
  if (!/^[A-Z]*$/.test(method.toString('latin1')) || method.length > 20) return 'opaque';
  if (space === -1) return undefined;
  if (space === 0) return 'opaque';
  const eol = bytes.indexOf(0x0a);
  if (eol === -1) return bytes.length > MAX_REQUEST_LINE ? 'opaque' : undefined;
  return /^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/.test(bytes.subarray(0, eol).toString('latin1')) ? 'http/1.1' : 'opaque';
}

const NO_ALPN: readonly string[] = [];

/**
 * Waits until the first bytes on `socket` classify, or `timeoutMs` passes with none that do
 * (a server-first protocol: the client waits for the server), then calls `done` with the
 * bytes back in the read buffer and the socket paused (and, for TLS, the ClientHello's ALPN). A client that closes its side first
 * counts as opaque; a socket error destroys it and `done` is never called.
 */
export function detectProtocol(socket: net.Socket, timeoutMs: number, done: (protocol: Detected, alpn: readonly string[]) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (protocol: Detected) => {
    if (finished) return;
    finished = true;
    cleanup();
    socket.pause();
    if (seen.length > 0) socket.unshift(seen);
    done(protocol, protocol === 'tls' ? clientHelloAlpn(seen) : NO_ALPN);
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const protocol = detect(seen);
    if (protocol !== undefined) finish(protocol);
  };
  const onEnd = () => finish('opaque');
  const onError = () => {
    finished = true;
    cleanup();
    socket.destroy();
  };
  const timer = setTimeout(() => finish('opaque'), timeoutMs);
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onError);
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.resume(); // a capture listener's sockets start paused (pauseOnConnect)
}
