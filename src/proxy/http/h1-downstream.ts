// One HTTP/1.x request on a downstream connection and the response to it, written straight to
// the socket: the head kept as the field strings the parser cut from the bytes that arrived,
// the request body handed to one consumer with backpressure, and the response framed for the
// client (its Content-Length kept, chunked otherwise, close-delimited for HTTP/1.0) and
// written with as few socket writes as possible (the head waits for the first body bytes, until
// its writer says no more are at hand: flushHead(); a small body goes out with it in one write).
// A 101 answer to an Upgrade request hands the connection over to the exchange (switchProtocols).
import { FORBIDDEN_IN_FIELD_VALUE } from '../../common/http-field.js';
import { http } from '../../common/node-http.js';
import type net from 'node:net';
import type { Downstream } from './downstream.js';
import { CHUNKED, type H1RequestHead } from './h1-request-parser.js';
import { latin1, TOKEN } from './h1-syntax.js';

/** Who reads a request body: data as it arrives, then its end. */
export interface H1BodyConsumer {
  onBody(chunk: Buffer): void;
  onBodyEnd(): void;
}

/** What the connection learns from a request as it ends. */
export interface H1ExchangeOwner {
  readonly socket: net.Socket;
  /** The connection should stop reading (`true`) or read again (`false`) for this request's body. */
  pauseReading(paused: boolean): void;
  /** The response is completely written (`closeAfter`: the connection must close after it). */
  responseDone(down: H1Downstream): void;
  /**
   * The connection switched protocols after `down`: it stops reading HTTP (its 'data' listener
   * comes off) and returns the bytes it read past the request, the new protocol's first.
   */
  upgraded(down: H1Downstream): Buffer | undefined;
}

/** Told once when the exchange is over (complete or broken off): the request context. */
export interface DownstreamObserver {
  downstreamClosed(): void;
}

const enum Framing {
  /** No body (HEAD, 204, 304). */
  None,
  /** The upstream's Content-Length, passed through. */
  Length,
  Chunked,
  /** Until the connection closes (an HTTP/1.0 client, no length known). */
  Close,
}

/** Body bytes a request may hold before anyone reads them; past this the connection stops reading. */
const UNREAD_BODY_LIMIT = 64 * 1024;
/** A last body piece up to this size goes out in the same buffer as what precedes it. */
const COALESCE_LIMIT = 16 * 1024;
const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n', 'latin1');

export class H1Downstream implements Downstream {
  readonly protocol = 'http/1.1' as const;
  /** The exchange is over: the response is written, or the connection went away. */
  finished = false;
  /** The connection closes after this response (the client asked, HTTP/1.0, draining, a refusal). */
  closeAfter: boolean;
  observer: DownstreamObserver | undefined = undefined;

  private headWritten = false;
  /** The response head, not written yet (it waits for body bytes to go with it). */
  private pendingHead: string | undefined = undefined;
  private framing = Framing.None;

  private consumer: H1BodyConsumer | undefined = undefined;
  /** Body bytes that arrived before a consumer (or the end, as a zero-length marker at the end). */
  private unread: Buffer[] | undefined = undefined;
  private unreadBytes = 0;
  private bodyEnded = false;
  private discarding = false;

  constructor(
    private readonly owner: H1ExchangeOwner,
    readonly head: H1RequestHead,
    draining: boolean,
  ) {
    this.closeAfter = !head.keepAlive || draining;
  }

  get rawHeaders(): readonly string[] {
    return this.head.rawHeaders;
  }

  header(lowerName: string): string | undefined {
    const raw = this.head.rawHeaders;
    const n = lowerName.length;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      if (k.length === n && (k === lowerName || k.toLowerCase() === lowerName)) return raw[i + 1];
    }
    return undefined;
  }

  get headersSent(): boolean {
    return this.headWritten;
  }

  get remoteAddress(): string | undefined {
    return this.owner.socket.remoteAddress;
  }

  get hasBody(): boolean {
    return this.head.bodyLength !== 0;
  }

  /** True when the body arrives chunked (it is re-chunked upstream). */
  get chunkedBody(): boolean {
    return this.head.bodyLength === CHUNKED;
  }

  // --- the request body ---------------------------------------------------------------------

  /** Hands the body to `consumer`: what arrived so far at once, the rest as it comes. */
  readBody(consumer: H1BodyConsumer): void {
    this.consumer = consumer;
    this.discarding = false;
    const unread = this.unread;
    if (unread !== undefined) {
      this.unread = undefined;
      this.unreadBytes = 0;
      for (const chunk of unread) consumer.onBody(chunk);
    }
    if (this.bodyEnded) consumer.onBodyEnd();
    else this.owner.pauseReading(false);
  }

  /** Stops or restarts reading the body (backpressure from where it goes). */
  pauseBody(paused: boolean): void {
    // A restart counts after the end too: a pause for the body's last bytes must not outlive the body.
    if (!paused || !this.bodyEnded) this.owner.pauseReading(paused);
  }

  /** Nobody will read the rest of the body: it is read and dropped, so the connection stays usable. */
  discardBody(): void {
    this.consumer = undefined;
    this.unread = undefined;
    this.unreadBytes = 0;
    this.discarding = true;
    if (!this.bodyEnded) this.owner.pauseReading(false);
  }

  /** From the connection: body bytes. */
  pushBody(chunk: Buffer): void {
    if (this.consumer !== undefined) return this.consumer.onBody(chunk);
    if (this.discarding) return;
    (this.unread ??= []).push(chunk);
    this.unreadBytes += chunk.length;
    if (this.unreadBytes > UNREAD_BODY_LIMIT) this.owner.pauseReading(true);
  }

  /** From the connection: the request is completely read. */
  endBody(): void {
    this.bodyEnded = true;
    this.consumer?.onBodyEnd();
  }

  /** True once the request is completely read. */
  get requestRead(): boolean {
    return this.bodyEnded;
  }

  // --- the response -------------------------------------------------------------------------

  /**
   * Starts the response. `headers` is flat `[name, value, ...]` without hop-by-hop fields;
   * throws when one cannot be written (a name that is not a token, a control character).
   * The head is held for the body bytes that follow; the caller ends the response or calls
   * flushHead() before it waits for more.
   */
  writeHead(status: number, reason: string, headers: readonly string[]): void {
    const method = this.head.method;
    if (FORBIDDEN_IN_FIELD_VALUE.test(reason)) throw new Error('invalid character in the response reason phrase');
    let head = 'HTTP/1.1 ' + status + ' ' + (reason === '' ? (http.STATUS_CODES[status] ?? '') : reason) + '\r\n';
    let hasLength = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (!TOKEN.test(name)) throw new Error(`invalid response header name ${JSON.stringify(name)}`);
      if (FORBIDDEN_IN_FIELD_VALUE.test(value)) throw new Error(`invalid character in the value of response header ${name}`);
      if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
      head += name + ': ' + value + '\r\n';
    }
    if (method === 'HEAD' || status === 204 || status === 304 || status < 200) this.framing = Framing.None;
    else if (hasLength) this.framing = Framing.Length;
    else if (this.head.minor === 1) {
      this.framing = Framing.Chunked;
      head += 'transfer-encoding: chunked\r\n';
    } else {
      this.framing = Framing.Close;
      this.closeAfter = true;
    }
    if (this.closeAfter) head += 'connection: close\r\n';
    else if (this.head.minor === 0) head += 'connection: keep-alive\r\n';
    this.pendingHead = head + '\r\n';
    this.headWritten = true;
  }

  /** Writes body bytes; false: wait for whenDrained() before writing more. */
  writeBody(chunk: Buffer): boolean {
    if (this.finished || chunk.length === 0) return true;
    const socket = this.owner.socket;
    if (this.framing === Framing.Chunked) {
      socket.cork();
      this.writePending(socket);
      socket.write(latin1(chunk.length.toString(16) + '\r\n'));
      socket.write(chunk);
      const ok = socket.write(CRLF);
      socket.uncork();
      return ok;
    }
    if (this.framing === Framing.None) return true;
    const head = this.pendingHead;
    if (head === undefined) return socket.write(chunk);
    this.pendingHead = undefined;
    if (chunk.length <= COALESCE_LIMIT) return socket.write(joined(head, chunk, ''));
    socket.write(latin1(head));
    return socket.write(chunk);
  }

  /** Calls `resume` once the socket takes more (after writeBody returned false). */
  whenDrained(resume: () => void): void {
    this.owner.socket.once('drain', resume);
  }

  /** Ends the response with `last` body bytes and, when chunked, `trailers`. */
  end(last: Buffer | undefined, trailers: readonly string[] | undefined): void {
    if (this.finished) return;
    const socket = this.owner.socket;
    const head = this.pendingHead ?? '';
    this.pendingHead = undefined;
    const body = last !== undefined && this.framing !== Framing.None ? last : EMPTY;
    if (this.framing === Framing.Chunked) {
      let tail = '0\r\n';
      if (trailers !== undefined) for (let i = 0; i < trailers.length; i += 2) tail += trailers[i]! + ': ' + trailers[i + 1]! + '\r\n';
      tail += '\r\n';
      const size = body.length > 0 ? body.length.toString(16) + '\r\n' : '';
      if (body.length <= COALESCE_LIMIT) socket.write(joined(head + size, body, body.length > 0 ? '\r\n' + tail : tail));
      else {
        socket.cork();
        socket.write(latin1(head + size));
        socket.write(body);
        socket.write(latin1('\r\n' + tail));
        socket.uncork();
      }
    } else if (body.length === 0) {
      if (head !== '') socket.write(latin1(head));
    } else if (head === '') socket.write(body);
    else if (body.length <= COALESCE_LIMIT) socket.write(joined(head, body, ''));
    else {
      socket.write(latin1(head));
      socket.write(body);
    }
    this.complete();
  }

  /**
   * Writes `101 Switching Protocols` with `headers` (no hop-by-hop fields; throws like writeHead)
   * and `Upgrade: protocol`, and takes the connection from HTTP: returns its socket and the
   * bytes the client sent past the request. The exchange ends with connectionClosed().
   */
  switchProtocols(reason: string, headers: readonly string[], protocol: string): { socket: net.Socket; early: Buffer | undefined } {
    let head = 'HTTP/1.1 101 ' + (reason === '' || FORBIDDEN_IN_FIELD_VALUE.test(reason) ? 'Switching Protocols' : reason) + '\r\n';
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (!TOKEN.test(name)) throw new Error(`invalid response header name ${JSON.stringify(name)}`);
      if (FORBIDDEN_IN_FIELD_VALUE.test(value)) throw new Error(`invalid character in the value of response header ${name}`);
      head += name + ': ' + value + '\r\n';
    }
    if (FORBIDDEN_IN_FIELD_VALUE.test(protocol)) throw new Error('invalid character in the Upgrade field of the 101 response');
    const socket = this.owner.socket;
    socket.write(latin1(head + 'connection: upgrade\r\nupgrade: ' + protocol + '\r\n\r\n'));
    this.headWritten = true;
    this.closeAfter = true;
    return { socket, early: this.owner.upgraded(this) };
  }

  sendResponse(status: number, headers: string[], body: string | undefined): void {
    if (this.finished) return;
    // The proxy answers before reading the body: the rest is read and dropped, as a server would.
    if (!this.requestRead) this.discardBody();
    const bytes = body === undefined ? undefined : Buffer.from(body);
    if (bytes !== undefined) headers.push('content-length', String(bytes.length));
    this.writeHead(status, '', headers);
    this.end(bytes, undefined);
  }

  /** Breaks off the exchange: the connection closes. */
  abort(): void {
    if (this.finished) return;
    this.closeAfter = true;
    this.owner.socket.destroy();
  }

  /** From the connection: it closed before the exchange was over. */
  connectionClosed(): void {
    if (this.finished) return;
    this.finished = true;
    this.observer?.downstreamClosed();
  }

  private complete(): void {
    this.finished = true;
    this.observer?.downstreamClosed();
    this.owner.responseDone(this);
  }

  /** Writes a head still waiting (the first body bytes are about to follow it). */
  private writePending(socket: net.Socket): void {
    const head = this.pendingHead;
    if (head === undefined) return;
    this.pendingHead = undefined;
    socket.write(latin1(head));
  }

  /**
   * Writes the head now if no body bytes took it yet. The writer of a response calls it when
   * the rest does not follow at once (the upstream's bytes so far are all relayed).
   */
  flushHead(): void {
    if (!this.finished) this.writePending(this.owner.socket);
  }
}

/** `before` (latin1) + `body` + `after` (latin1) in one buffer: one socket write. */
function joined(before: string, body: Buffer, after: string): Buffer {
  const a = before.length;
  const out = Buffer.allocUnsafe(a + body.length + after.length);
  out.write(before, 0, 'latin1');
  body.copy(out, a);
  if (after.length > 0) out.write(after, a + body.length, 'latin1');
  return out;
}
