// The downstream HTTP/1.x request parser: request line and header fields checked as strictly
// as RFC 9112 asks of a server in front of others (a proxy must not read a request differently
// from the next hop: no bare CR or LF, no obsolete line folding, no whitespace before a colon,
// one framing only), then the body framed by Content-Length or chunked coding. One parser per
// connection; it stops after each request until the connection asks for the next one.
import { badRequest, headersTooLarge, type ProxyError } from '../errors.js';
import { ChunkedBodyDecoder, ChunkStep, type ChunkDataSink } from './h1-chunked.js';
import { parseDecimal, TOKEN, trimOws } from './h1-syntax.js';

/** A parsed request head. Header names keep their case; values are trimmed of whitespace. */
export interface H1RequestHead {
  readonly method: string;
  /** The request target as sent (origin-form, absolute-form, asterisk-form). */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  /** Flat `[name, value, ...]`, as the fields arrived. */
  readonly rawHeaders: string[];
  /** The client may send another request on this connection after this one. */
  readonly keepAlive: boolean;
  /** Content-Length of the body, CHUNKED, or 0 for none. */
  readonly bodyLength: number;
  /** The client waits for `100 Continue` before sending the body. */
  readonly expectContinue: boolean;
  /**
   * The protocols of an HTTP/1.1 Upgrade request (`Upgrade` with `Connection: upgrade`), as
   * sent; undefined for an ordinary request, for one with a body, and for an h2c upgrade (served
   * as an ordinary request: this proxy speaks HTTP/2 itself, as Envoy strips h2c upgrades).
   */
  readonly upgrade: string | undefined;
}

/** bodyLength of a chunked request. */
export const CHUNKED = -1;

/** Receives what the parser read; called synchronously from execute(). */
export interface H1RequestSink {
  onRequestHead(head: H1RequestHead): void;
  onRequestBody(chunk: Buffer): void;
  /** The request is completely read (right after the head when it has no body). */
  onRequestComplete(): void;
}

const enum State {
  Head,
  Length,
  Chunked,
  /** The request is read; nothing more is parsed until next() */
  Done,
  Invalid,
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
/** Control characters no request head may hold (CR and LF are checked line by line). */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const FORBIDDEN_IN_HEAD = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** A request target: visible characters only (no whitespace or controls). */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

/** Incremental request parser for one connection. */
export class H1RequestParser implements ChunkDataSink {
  private state = State.Head;
  /** Bytes of a head not complete yet. */
  private pending: Buffer | undefined = undefined;
  private remaining = 0;
  private readonly chunked = new ChunkedBodyDecoder();
  /** Why execute() returned -1. */
  error: ProxyError | undefined = undefined;

  /** `maxHeadBytes`: the longest request head taken (431 past it). */
  constructor(
    private readonly sink: H1RequestSink,
    private readonly maxHeadBytes: number,
  ) {}

  /** True once the request is completely read (until next()). */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** Makes ready for the next request on the connection. */
  next(): void {
    if (this.state === State.Done) this.state = State.Head;
  }

  /**
   * Feeds bytes from the connection, from `start`. Returns how many bytes it consumed (it stops
   * where the request ends: the rest belongs to the next one), or -1 when the bytes are not a
   * valid request (`error` says why; the connection must close).
   */
  execute(data: Buffer, start: number): number {
    let pos = start;
    const len = data.length;
    while (pos < len) {
      switch (this.state) {
        case State.Head: {
          const next = this.readHead(data, pos);
          if (next < 0) return -1;
          if (this.state === State.Head) return len - start; // the head is not complete yet
          pos = next;
          if (this.state === State.Done) return pos - start;
          break;
        }
        case State.Length: {
          const take = Math.min(len - pos, this.remaining);
          if (take > 0) this.sink.onRequestBody(pos === 0 && take === len ? data : data.subarray(pos, pos + take));
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = State.Done;
            this.sink.onRequestComplete();
            return pos - start;
          }
          return pos - start;
        }
        case State.Chunked: {
          const step = this.chunked.execute(data, pos, this);
          if (step === ChunkStep.Invalid) return this.invalid(badRequest(`malformed chunked request body: ${this.chunked.error}`));
          pos = this.chunked.pos;
          if (step === ChunkStep.Complete) {
            this.state = State.Done;
            this.sink.onRequestComplete();
            return pos - start;
          }
          return pos - start;
        }
        case State.Done:
          return pos - start;
        case State.Invalid:
          return -1;
      }
    }
    return pos - start;
  }

  /**
   * Reads head bytes from `data` at `pos`: all of them (state stays Head) or up to the head's
   * end, where the sink gets the head and the state moves to the body or Done. Returns the
   * position after what it consumed, or -1.
   */
  private readHead(data: Buffer, pos: number): number {
    const prior = this.pending;
    // Blank lines before a request line are skipped (RFC 9112 2.2: some clients send a CRLF after a body).
    if (prior === undefined) while (pos + 1 < data.length && data[pos] === 13 && data[pos + 1] === 10) pos += 2;
    if (pos >= data.length) return pos;
    const buf = prior === undefined ? data : Buffer.concat([prior, data.subarray(pos)]);
    const from = prior === undefined ? pos : 0;
    const end = buf.indexOf(CRLF_CRLF, from);
    if (end < 0) {
      if (buf.length - from > this.maxHeadBytes) return this.invalid(headersTooLarge(this.maxHeadBytes));
      // A complete first line is judged at once (an HTTP/0.9 request would otherwise wait for the timeout).
      let eol = buf.indexOf(10, from);
      if (eol >= 0) {
        if (eol > from && buf[eol - 1] === 13) eol--;
        const problem = requestLineProblem(buf.toString('latin1', from, eol));
        if (problem !== undefined) return this.invalid(badRequest(problem));
      }
      this.pending = prior === undefined ? data.subarray(pos) : buf;
      return data.length;
    }
    if (end - from + 4 > this.maxHeadBytes) return this.invalid(headersTooLarge(this.maxHeadBytes));
    this.pending = undefined;
    const head = parseHead(buf.toString('latin1', from, end));
    if (typeof head === 'string') return this.invalid(badRequest(head));
    const after = pos + end + 4 - from - (prior === undefined ? 0 : prior.length);
    this.sink.onRequestHead(head);
    if (head.bodyLength === 0) {
      this.state = State.Done;
      this.sink.onRequestComplete();
    } else if (head.bodyLength === CHUNKED) {
      this.chunked.reset();
      this.state = State.Chunked;
    } else {
      this.remaining = head.bodyLength;
      this.state = State.Length;
    }
    return after;
  }

  onChunkData(chunk: Buffer): void {
    this.sink.onRequestBody(chunk);
  }

  private invalid(error: ProxyError): number {
    this.error = error;
    this.state = State.Invalid;
    this.pending = undefined;
    return -1;
  }
}

/** What is wrong with a request line, or undefined. */
function requestLineProblem(line: string): string | undefined {
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
    return sp1 > 0 && sp2 < 0 && line.indexOf(' ', sp1 + 1) < 0
      ? 'the request line has no HTTP version (HTTP/0.9 is not served)'
      : `malformed request line ${JSON.stringify(line.slice(0, 80))}`;
  }
  if (!TOKEN.test(line.slice(0, sp1))) return `malformed method in request line ${JSON.stringify(line.slice(0, 80))}`;
  if (!TARGET.test(line.slice(sp1 + 1, sp2))) return `malformed request target in ${JSON.stringify(line.slice(0, 80))}`;
  const version = line.slice(sp2 + 1);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return `unsupported HTTP version ${JSON.stringify(version.slice(0, 20))} (HTTP/1.0 and HTTP/1.1 are served)`;
  return undefined;
}

/** The head (request line and fields, without the final blank line), or what is wrong with it. */
function parseHead(text: string): H1RequestHead | string {
  if (FORBIDDEN_IN_HEAD.test(text)) return 'a control character in the request head';
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const line = text.slice(0, lineEnd);
  if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) return 'a bare CR or LF in the request line';
  const lineProblem = requestLineProblem(line);
  if (lineProblem !== undefined) return lineProblem;
  const sp1 = line.indexOf(' ');
  const sp2 = line.indexOf(' ', sp1 + 1);
  const method = line.slice(0, sp1);
  const minor = line.charCodeAt(sp2 + 8) - 48;

  const rawHeaders: string[] = [];
  let keepAlive = minor === 1;
  let contentLength = -1;
  let chunked = false;
  let transferEncoding = false;
  let expectContinue = false;
  let hasHost = false;
  let upgrade: string | undefined;
  let connectionUpgrade = false;
  let pos = lineEnd + 2;
  while (pos < text.length) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) return 'obsolete line folding in a header field';
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon > eol) return `header line without a colon: ${JSON.stringify(text.slice(pos, Math.min(eol, pos + 40)))}`;
    const name = text.slice(pos, colon);
    if (!TOKEN.test(name)) return `malformed header field name ${JSON.stringify(name.slice(0, 40))}`;
    const raw = text.slice(colon + 1, eol);
    if (raw.indexOf('\n') >= 0 || raw.indexOf('\r') >= 0) return `a bare CR or LF in header field ${name}`;
    const value = trimOws(raw, 0, raw.length);
    pos = eol + 2;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') hasHost = true;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') upgrade = upgrade === undefined ? value : upgrade + ', ' + value;
        break;
      case 6:
        if (name.toLowerCase() === 'expect') {
          if (value.toLowerCase() !== '100-continue') return `unsupported Expect ${JSON.stringify(value.slice(0, 40))} (only 100-continue)`;
          expectContinue = minor === 1;
        }
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          for (const token of value.toLowerCase().split(',')) {
            const t = token.trim();
            if (t === 'close') keepAlive = false;
            else if (t === 'keep-alive' && minor === 0) keepAlive = true;
            else if (t === 'upgrade') connectionUpgrade = true;
          }
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const n = parseContentLength(value);
          if (n < 0) return `malformed Content-Length ${JSON.stringify(value.slice(0, 40))}`;
          if (contentLength >= 0 && n !== contentLength) return `Content-Length fields disagree (${contentLength} and ${n})`;
          contentLength = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          transferEncoding = true;
          chunked = value.toLowerCase() === 'chunked' && !chunked;
          if (!chunked) return `unsupported Transfer-Encoding ${JSON.stringify(value.slice(0, 40))} (only a single chunked coding)`;
        }
        break;
    }
    rawHeaders.push(name, value);
  }
  if (transferEncoding && contentLength >= 0) return 'both Content-Length and Transfer-Encoding (a request has one framing)';
  if (transferEncoding && minor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
  if (!hasHost && minor === 1) return 'an HTTP/1.1 request without a Host header';
  if (method === 'CONNECT') return 'CONNECT is not served (send requests through the proxy listener with absolute-form targets)';
  const bodyLength = chunked ? CHUNKED : contentLength > 0 ? contentLength : 0;
  // An upgrade needs both fields (RFC 9110 7.8) and HTTP/1.1; h2c is never passed on, and neither is
  // one with a body (the new protocol's bytes would follow a body the proxy re-frames).
  if (upgrade !== undefined && (!connectionUpgrade || minor === 0 || bodyLength !== 0 || upgrade.trim().toLowerCase() === 'h2c')) upgrade = undefined;
  return { method, target: line.slice(sp1 + 1, sp2), minor, rawHeaders, keepAlive, bodyLength, expectContinue: expectContinue && bodyLength !== 0, upgrade };
}

/** Content-Length: digits, or a list of equal values ("4, 4"); -1 otherwise. */
function parseContentLength(value: string): number {
  let n = -1;
  for (const part of value.split(',')) {
    const v = parseDecimal(part.trim());
    if (v < 0 || (n >= 0 && v !== n)) return -1;
    n = v;
  }
  return n;
}
