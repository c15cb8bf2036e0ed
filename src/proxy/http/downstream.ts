// The downstream side of one request, over HTTP/1.x (H1Downstream, in its own file) or HTTP/2
// (a server stream): header lookup for routing, and the two ways the proxy itself answers (a complete
// small response, or an abort once a response was already under way).
import http2 from 'node:http2';

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Set on a downstream HTTP/2 stream the proxy itself reset (the rest were reset by the client: rapid-reset accounting). */
const kResetByProxy = Symbol('trellis.resetByProxy');
type MarkedStream = http2.ServerHttp2Stream & { [kResetByProxy]?: true };

/** Resets a downstream HTTP/2 stream on the proxy's behalf (an upstream failure, not the client's doing). */
export function resetByProxy(stream: http2.ServerHttp2Stream, code: number): void {
  (stream as MarkedStream)[kResetByProxy] = true;
  stream.close(code);
}

/** True when `stream` closed with an error code the proxy did not send: the client reset it (or broke the protocol on it). */
export function resetByClient(stream: http2.ServerHttp2Stream): boolean {
  return (stream.rstCode ?? 0) !== 0 && (stream as MarkedStream)[kResetByProxy] !== true;
}

export interface Downstream {
  readonly protocol: 'http/1.1' | 'h2';
  /** A request header by lower-case name (the first one when repeated). */
  header(lowerName: string): string | undefined;
  /** True once the response head went out (the proxy can no longer answer on its own). */
  readonly headersSent: boolean;
  /** Sends a complete response; `headers` is flat `[name, value, ...]`; no body ends the stream with the headers. */
  sendResponse(status: number, headers: string[], body: string | undefined): void;
  /** Breaks off a response that already started (or a request nobody can answer). */
  abort(): void;
  /** The client's address (for ring hash by source IP). */
  readonly remoteAddress: string | undefined;
  /** True when the request has a body (which the proxy streams and so cannot replay). */
  readonly hasBody: boolean;
}

/** HTTP/2: one server stream and its request headers. */
export class H2Downstream implements Downstream {
  readonly protocol = 'h2' as const;

  /** `endStream`: the request HEADERS frame ended the stream (no body follows). */
  constructor(
    readonly stream: http2.ServerHttp2Stream,
    readonly headers: http2.IncomingHttpHeaders,
    readonly endStream: boolean,
  ) {}

  header(lowerName: string): string | undefined {
    const v = this.headers[lowerName];
    return typeof v === 'string' ? v : v?.[0];
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  sendResponse(status: number, headers: string[], body: string | undefined): void {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    const out: http2.OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < headers.length; i += 2) out[headers[i]!] = headers[i + 1];
    if (body === undefined) {
      stream.respond(out, { endStream: true });
    } else {
      out['content-length'] = Buffer.byteLength(body);
      stream.respond(out);
      stream.end(body);
    }
  }

  abort(): void {
    if (!this.stream.destroyed) resetByProxy(this.stream, NGHTTP2_INTERNAL_ERROR);
  }

  get remoteAddress(): string | undefined {
    return this.stream.session?.socket?.remoteAddress;
  }

  get hasBody(): boolean {
    return !this.endStream;
  }
}
