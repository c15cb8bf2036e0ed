// A small incremental HTTP/1.x response parser for the upstream client: status line, header
// fields (hop-by-hop ones removed), and the body framed by Content-Length, chunked encoding or
// connection close. One parser per connection, reused for every response on it.
//
// It is deliberately not a general parser: it reads responses to requests this proxy wrote,
// so it needs no request-line handling, no obsolete line folding and no pipelining.

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
}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Idle,
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
const MAX_LINE = 8 * 1024;

/** Incremental response parser; call start() before each response. */
export class H1ResponseParser {
  private sink: H1ResponseSink | null = null;
  private state = State.Idle;
  /** Unconsumed bytes of an incomplete head, chunk-size line or trailer line. */
  private pending: Buffer | undefined = undefined;
  private remaining = 0;
  private bodyless = false;
  private trailers: string[] | undefined = undefined;
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  /** True once any byte of the current response arrived. */
  received = false;
  /** Why the last execute() returned Invalid. */
  error = '';

  /** Prepares for the response to one request; `bodyless` for HEAD requests. */
  start(sink: H1ResponseSink, bodyless: boolean): void {
    this.sink = sink;
    this.state = State.Head;
    this.pending = undefined;
    this.bodyless = bodyless;
    this.trailers = undefined;
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
        case State.ChunkSize: {
          const eol = data.indexOf(CRLF, pos);
          if (eol < 0) return this.keepPending(data, pos);
          const size = parseChunkSize(data, pos, eol);
          if (size < 0) return this.invalid(`bad chunk size line ${JSON.stringify(data.toString('latin1', pos, Math.min(eol, pos + 40)))}`);
          pos = eol + 2;
          if (size === 0) {
            this.state = State.Trailers;
          } else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const avail = len - pos;
          if (avail === 0) return ParseStatus.More;
          const take = avail < this.remaining ? avail : this.remaining;
          this.sink!.onResponseBody(pos === 0 && take === len ? data : data.subarray(pos, pos + take));
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after chunk data; it may itself be split across reads.
          while (this.remaining > 0 && pos < len) {
            const expected = this.remaining === 2 ? 13 : 10;
            if (data[pos] !== expected) return this.invalid('chunk data not followed by CRLF');
            pos++;
            this.remaining--;
          }
          if (this.remaining > 0) return ParseStatus.More;
          this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const eol = data.indexOf(CRLF, pos);
          if (eol < 0) return this.keepPending(data, pos);
          if (eol === pos) return this.complete(undefined, data, pos + 2);
          const line = data.toString('latin1', pos, eol);
          const colon = line.indexOf(':');
          if (colon <= 0) return this.invalid(`bad trailer line ${JSON.stringify(line.slice(0, 40))}`);
          (this.trailers ??= []).push(line.slice(0, colon), trimValue(line, colon + 1, line.length));
          pos = eol + 2;
          break;
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
      const value = trimValue(head, colon + 1, eol);
      pos = eol + 2;
      // Only names of these lengths need a look; the rest pass through untouched.
      switch (name.length) {
        case 2: // te
          if (name.toLowerCase() === 'te') continue;
          break;
        case 7: // upgrade
          if (name.toLowerCase() === 'upgrade') continue;
          break;
        case 10: { // connection, keep-alive
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
      if (status === 101) return this.invalid('101 Switching Protocols to a request that asked for no upgrade');
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
      this.state = State.ChunkSize;
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

  private complete(last: Buffer | undefined, data: Buffer | undefined, pos: number): ParseStatus {
    const sink = this.sink!;
    const trailers = this.trailers;
    if (data !== undefined && pos < data.length) this.keepAlive = false; // bytes past the response: do not trust the connection
    this.sink = null;
    this.state = State.Idle;
    this.trailers = undefined;
    sink.onResponseComplete(last, trailers);
    return ParseStatus.Complete;
  }

  private keepPending(data: Buffer, pos: number): ParseStatus {
    if (data.length - pos > MAX_LINE) return this.invalid(`line longer than ${MAX_LINE} bytes in chunked body`);
    this.pending = data.subarray(pos);
    return ParseStatus.More;
  }

  private invalid(why: string): ParseStatus {
    this.error = why;
    this.keepAlive = false;
    this.state = State.Idle;
    this.sink = null;
    return ParseStatus.Invalid;
  }
}

function trimValue(s: string, start: number, end: number): string {
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return s.slice(start, end);
}

/** Non-negative decimal; -1 when not all digits (or absurdly long). */
function parseDecimal(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Hex chunk size before any `;extension`; -1 when invalid. */
function parseChunkSize(data: Buffer, start: number, end: number): number {
  let n = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = data[i]!;
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else if (c === 59 || c === 32 || c === 9) break; // extension or whitespace before it
    else return -1;
    if (++digits > 12) return -1;
    n = n * 16 + d;
  }
  return digits === 0 ? -1 : n;
}

function removeNamed(headers: string[], lowerName: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]!.toLowerCase() === lowerName) headers.splice(i, 2);
}

function removeListed(headers: string[], lowerNames: string[]): void {
  for (const n of lowerNames) removeNamed(headers, n);
}
