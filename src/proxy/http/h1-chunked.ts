// The chunked transfer coding of HTTP/1.1 (RFC 9112 7.1), decoded incrementally: chunk-size
// lines (extensions ignored), chunk data handed on as it arrives, the CRLF after each chunk,
// and the trailer section. Shared by the request parser (downstream) and the response parser
// (upstream).
import { trimOws } from './h1-syntax.js';

/** Where decoded chunk data goes. */
export interface ChunkDataSink {
  onChunkData(chunk: Buffer): void;
}

/** What execute() concluded. */
export const enum ChunkStep {
  /** The body is not complete; every byte given was consumed. */
  More = 0,
  /** The body (with its trailers) is complete at `pos`. */
  Complete = 1,
  /** The bytes are not valid chunked coding; `error` says why. */
  Invalid = 2,
}

const enum State {
  Size,
  Data,
  DataEnd,
  Trailers,
}

const CRLF = Buffer.from('\r\n');
const MAX_LINE = 8 * 1024;

export class ChunkedBodyDecoder {
  private state = State.Size;
  private remaining = 0;
  /** An incomplete chunk-size or trailer line. */
  private pending: Buffer | undefined = undefined;
  /** Trailer fields, flat `[name, value, ...]`, once any arrived. */
  trailers: string[] | undefined = undefined;
  /** Where execute() stopped (after Complete: the first byte past the body). */
  pos = 0;
  error = '';

  reset(): void {
    this.state = State.Size;
    this.remaining = 0;
    this.pending = undefined;
    this.trailers = undefined;
    this.error = '';
  }

  /** Decodes `data` from `start`, handing chunk data to `sink`. */
  execute(data: Buffer, start: number, sink: ChunkDataSink): ChunkStep {
    let pos = start;
    if (this.pending !== undefined) {
      // Only line states keep pending bytes: join them with the new data and read the line again.
      const joined = Buffer.concat([this.pending, data.subarray(pos)]);
      this.pending = undefined;
      const step = this.execute(joined, 0, sink);
      // Positions in `joined` past the pending part map back onto `data`.
      this.pos = this.pos - (joined.length - (data.length - start)) + start;
      return step;
    }
    const len = data.length;
    for (;;) {
      switch (this.state) {
        case State.Size: {
          const eol = data.indexOf(CRLF, pos);
          if (eol < 0) return this.keepLine(data, pos);
          const size = parseChunkSize(data, pos, eol);
          if (size < 0) return this.invalid(`bad chunk size line ${JSON.stringify(data.toString('latin1', pos, Math.min(eol, pos + 40)))}`);
          pos = eol + 2;
          if (size === 0) this.state = State.Trailers;
          else {
            this.remaining = size;
            this.state = State.Data;
          }
          break;
        }
        case State.Data: {
          const avail = len - pos;
          if (avail === 0) return this.more(pos);
          const take = avail < this.remaining ? avail : this.remaining;
          sink.onChunkData(pos === 0 && take === len ? data : data.subarray(pos, pos + take));
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = State.DataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.DataEnd: {
          // The CRLF after chunk data; it may itself be split across reads.
          while (this.remaining > 0 && pos < len) {
            if (data[pos] !== (this.remaining === 2 ? 13 : 10)) return this.invalid('chunk data not followed by CRLF');
            pos++;
            this.remaining--;
          }
          if (this.remaining > 0) return this.more(pos);
          this.state = State.Size;
          break;
        }
        case State.Trailers: {
          const eol = data.indexOf(CRLF, pos);
          if (eol < 0) return this.keepLine(data, pos);
          if (eol === pos) {
            this.pos = pos + 2;
            this.state = State.Size;
            return ChunkStep.Complete;
          }
          const line = data.toString('latin1', pos, eol);
          const colon = line.indexOf(':');
          if (colon <= 0 || line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) return this.invalid(`bad trailer line ${JSON.stringify(line.slice(0, 40))}`);
          (this.trailers ??= []).push(line.slice(0, colon), trimOws(line, colon + 1, line.length));
          pos = eol + 2;
          break;
        }
      }
    }
  }

  private more(pos: number): ChunkStep {
    this.pos = pos;
    return ChunkStep.More;
  }

  private keepLine(data: Buffer, pos: number): ChunkStep {
    if (data.length - pos > MAX_LINE) return this.invalid(`line longer than ${MAX_LINE} bytes in a chunked body`);
    if (pos < data.length) this.pending = data.subarray(pos);
    this.pos = data.length;
    return ChunkStep.More;
  }

  private invalid(why: string): ChunkStep {
    this.error = why;
    this.pending = undefined;
    return ChunkStep.Invalid;
  }
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
    else if (c === 59 || c === 32 || c === 9)
      break; // extension or whitespace before it
    else return -1;
    if (++digits > 12) return -1;
    n = n * 16 + d;
  }
  return digits === 0 ? -1 : n;
}
