// A small incremental HTTP/1.x response parser for the upstream client: status line, header
// fields (hop-by-hop ones removed), and the body framed by Content-Length, chunked encoding or
// connection close. One parser per connection, reused for every response on it. A 101 answer
// to a request that asked for an upgrade ends the HTTP part of the connection (Upgraded).
//
// It is deliberately not a general parser: it reads responses to requests this proxy wrote,
// so it needs no request-line handling, no obsolete line folding and no pipelining.

import { ChunkedBodyDecoder, ChunkStep, type ChunkDataSink } from '../http/h1-chunked.js';
import { parseDecimal, trimOws } from '../http/h1-syntax.js';

/** Receives one parsed response. Callbacks run synchronously inside execute()/finishAtEof(). */
export interface H1ResponseSink {
  /** `headers` is flat `[name, value, ...]` with hop-by-hop fields removed; names keep their case. */
  onResponseHead(status: number, reason: string, headers: string[]): void;
  /** A piece of the body that is not the last one. */
  onResponseBody(chunk: Buffer): void;
  /** The response is complete; `last` is its final body piece, if it came with the end. */
  onResponseComplete(last: Buffer | undefined, trailers: string[] | undefined): void;
  /** A `100 Continue` interim response arrived. */
  onResponseContinue(): void;
}

/** What execute() concluded. */
export const enum ParseStatus {
  /** The response is not complete yet. */
  More = 0,
  /** The response is complete (the sink was told). */
  Complete = 1,
  /** The bytes are not a valid response; `error` says why. */
  Invalid = 2,
  /** 101 Switching Protocols to an upgrade request: `upgraded` has the head; the connection is no longer HTTP. */
  Upgraded = 3,
}

/** A 101 answer to an upgrade request: its head, and the bytes after it (the new protocol's first). */
export interface H1UpgradeResponse {
  readonly reason: string;
  /** Without hop-by-hop fields (Upgrade and Connection included). */
  readonly headers: string[];
  /** The Upgrade field's value. */
  readonly protocol: string;
  readonly rest: Buffer | undefined;
}

const enum State {
  Head,
  Length,
  Chunked,
  UntilClose,
  Idle,
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

/** Incremental response parser; call start() before each response. */
export class H1ResponseParser implements ChunkDataSink {
  private sink: H1ResponseSink | null = null;
  private state = State.Idle;
  /** Unconsumed bytes of an incomplete head, chunk-size line or trailer line. */
  private pending: Buffer | undefined = undefined;
  private remaining = 0;
  private bodyless = false;
  /** The request asked for an upgrade: a 101 is its answer, not a protocol error. */
  private upgradeAsked = false;
  /** The Upgrade field of the response being parsed. */
  private upgradeField: string | undefined = undefined;
  private readonly chunked = new ChunkedBodyDecoder();
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  /** True once any byte of the current response arrived. */
  received = false;
  /** Why the last execute() returned Invalid. */
  error = '';
  /** Set when execute() returned Upgraded. */
  upgraded: H1UpgradeResponse | undefined = undefined;

  /** Prepares for the response to one request; `bodyless` for HEAD requests; `upgrade` when it asked for one. */
  start(sink: H1ResponseSink, bodyless: boolean, upgrade = false): void {
    this.sink = sink;
    this.state = State.Head;
    this.pending = undefined;
    this.bodyless = bodyless;
    this.upgradeAsked = upgrade;
    this.upgraded = undefined;
    this.chunked.reset();
    this.keepAlive = true;
    this.received = false;
    this.error = '';
  }

  /** True while a response is expected or being read. */
  get active(): boolean {
    return this.state !== State.Idle;
  }

  /** Feeds bytes from the connection. */
  execute(data: Buffer): ParseStatus {
    this.received = true;
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let pos = 0;
    const len = data.length;
    for (;;) {
      switch (this.state) {
        case State.Head: {
          const end = data.indexOf(CRLFCRLF, pos);
          if (end < 0) {
            if (len - pos > MAX_HEAD) return this.invalid(`response head longer than ${MAX_HEAD} bytes`);
            this.pending = data.subarray(pos);
            return ParseStatus.More;
          }
          const next = this.parseHead(data.toString('latin1', pos, end));
          if (next === ParseStatus.Invalid) return next;
          pos = end + 4;
          if (next === ParseStatus.Upgraded) return this.upgrade(data, pos);
          if (next === ParseStatus.Complete) return this.complete(undefined, data, pos);
          break;
        }
        case State.Length: {
          const avail = len - pos;
          if (avail >= this.remaining) {
            const last = data.subarray(pos, pos + this.remaining);
            return this.complete(last.length > 0 ? last : undefined, data, pos + this.remaining);
          }
          if (avail > 0) this.sink!.onResponseBody(pos === 0 ? data : data.subarray(pos));
          this.remaining -= avail;
          return ParseStatus.More;
        }
        case State.Chunked: {
          const step = this.chunked.execute(data, pos, this);
          if (step === ChunkStep.Invalid) return this.invalid(this.chunked.error);
          if (step === ChunkStep.More) return ParseStatus.More;
          return this.complete(undefined, data, this.chunked.pos);
        }
        case State.UntilClose: {
          if (pos < len) this.sink!.onResponseBody(pos === 0 ? data : data.subarray(pos));
          return ParseStatus.More;
        }
        case State.Idle:
          return this.invalid(`${len - pos} unexpected bytes while no request was outstanding`);
      }
    }
  }

  /**
   * The connection reached end of stream. Completes a response framed by close;
   * returns Invalid (with `error`) when a response was cut short.
   */
  finishAtEof(): ParseStatus {
    if (this.state === State.UntilClose) return this.complete(undefined, undefined, 0);
    if (this.state === State.Idle) return ParseStatus.Complete;
    return this.invalid('connection closed before the response was complete');
  }

  /** Forgets the current response (the connection is being destroyed). */
  abandon(): void {
    this.sink = null;
    this.state = State.Idle;
    this.pending = undefined;
  }

  private parseHead(head: string): ParseStatus {
    // Status line: HTTP/1.x SP 3DIGIT SP reason
    if (!head.startsWith('HTTP/1.') || head.length < 12) return this.invalid(`bad status line ${JSON.stringify(head.slice(0, 40))}`);
    const minor = head.charCodeAt(7) - 48;
    const d0 = head.charCodeAt(9) - 48;
    const d1 = head.charCodeAt(10) - 48;
    const d2 = head.charCodeAt(11) - 48;
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return this.invalid(`bad status code in ${JSON.stringify(head.slice(0, 40))}`);
    const status = d0 * 100 + d1 * 10 + d2;
    let lineEnd = head.indexOf('\r\n');
    if (lineEnd < 0) lineEnd = head.length;
    const reason = lineEnd > 13 ? head.slice(13, lineEnd) : '';

    this.upgradeField = undefined;
    let keepAlive = minor >= 1;
    let contentLength = -1;
    let chunked = false;
    let listed: string[] | undefined;
    const headers: string[] = [];
    let pos = lineEnd + 2;
    while (pos < head.length) {
      let eol = head.indexOf('\r\n', pos);
      if (eol < 0) eol = head.length;
      const colon = head.indexOf(':', pos);
      if (colon <= pos || colon > eol) return this.invalid(`bad header line ${JSON.stringify(head.slice(pos, Math.min(eol, pos + 40)))}`);
      const name = head.slice(pos, colon);
      const value = trimOws(head, colon + 1, eol);
      pos = eol + 2;
      // Only names of these lengths need a look; the rest pass through untouched.
      switch (name.length) {
        case 2: // te
          if (name.toLowerCase() === 'te') continue;
          break;
        case 7: // upgrade
          if (name.toLowerCase() === 'upgrade') {
            this.upgradeField = value;
            continue;
          }
          break;
        case 10: {
          // connection, keep-alive
          const lower = name.toLowerCase();
          if (lower === 'keep-alive') continue;
          if (lower === 'connection') {
            for (const token of value.toLowerCase().split(',')) {
              const t = token.trim();
              if (t === 'close') keepAlive = false;
              else if (t === 'keep-alive') keepAlive = true;
              else if (t !== '') (listed ??= []).push(t);
            }
            continue;
          }
          break;
        }
        case 14: // content-length
          if (name.toLowerCase() === 'content-length') {
            const n = parseDecimal(value);
            if (n < 0 || (contentLength >= 0 && n !== contentLength)) return this.invalid(`bad content-length ${JSON.stringify(value)}`);
            contentLength = n;
          }
          break;
        case 16: // proxy-connection
          if (name.toLowerCase() === 'proxy-connection') continue;
          break;
        case 17: // transfer-encoding
          if (name.toLowerCase() === 'transfer-encoding') {
            chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
            if (!chunked) keepAlive = false; // another coding last: the body runs to close
            continue;
          }
          break;
      }
      headers.push(name, value);
    }
    if (listed !== undefined) removeListed(headers, listed);

    if (status < 200) {
      if (status === 101) {
        if (!this.upgradeAsked) return this.invalid('101 Switching Protocols to a request that asked for no upgrade');
        if (this.upgradeField === undefined) return this.invalid('101 Switching Protocols without an Upgrade field');
        this.upgraded = { reason, headers, protocol: this.upgradeField, rest: undefined };
        return ParseStatus.Upgraded;
      }
      if (status === 100) this.sink!.onResponseContinue();
      this.state = State.Head; // an interim response; the final one follows
      return ParseStatus.More;
    }
    this.keepAlive = keepAlive;
    if (chunked && contentLength >= 0) {
      // RFC 9112 6.3: Transfer-Encoding overrides Content-Length; such a message must not be reused.
      removeNamed(headers, 'content-length');
      this.keepAlive = false;
    }
    this.sink!.onResponseHead(status, reason, headers);
    if (this.bodyless || status === 204 || status === 304) return ParseStatus.Complete;
    if (chunked) {
      this.state = State.Chunked;
    } else if (contentLength >= 0) {
      if (contentLength === 0) return ParseStatus.Complete;
      this.state = State.Length;
      this.remaining = contentLength;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    return ParseStatus.More;
  }

  /** The 101 head is parsed: what follows it on the connection is the new protocol's. */
  private upgrade(data: Buffer, pos: number): ParseStatus {
    const head = this.upgraded!;
    if (pos < data.length) this.upgraded = { ...head, rest: data.subarray(pos) };
    this.keepAlive = false;
    this.sink = null;
    this.state = State.Idle;
    return ParseStatus.Upgraded;
  }

  private complete(last: Buffer | undefined, data: Buffer | undefined, pos: number): ParseStatus {
    const sink = this.sink!;
    const trailers = this.state === State.Chunked ? this.chunked.trailers : undefined;
    if (data !== undefined && pos < data.length) this.keepAlive = false; // bytes past the response: do not trust the connection
    this.sink = null;
    this.state = State.Idle;
    sink.onResponseComplete(last, trailers);
    return ParseStatus.Complete;
  }

  onChunkData(chunk: Buffer): void {
    this.sink!.onResponseBody(chunk);
  }

  private invalid(why: string): ParseStatus {
    this.error = why;
    this.keepAlive = false;
    this.state = State.Idle;
    this.sink = null;
    return ParseStatus.Invalid;
  }
}

function removeNamed(headers: string[], lowerName: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]!.toLowerCase() === lowerName) headers.splice(i, 2);
}

function removeListed(headers: string[], lowerNames: string[]): void {
  for (const n of lowerNames) removeNamed(headers, n);
}
