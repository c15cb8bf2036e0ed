// An HTTP/2 downstream request seen as an HTTP/1.x one, so the HTTP/1.1 forwarder serves an
// HTTP/2 client of an HTTP/1.1-only app (protocol translation): the request's fields translated
// once, its body read from the stream's DATA frames (re-chunked upstream when it has no
// Content-Length), the response head sent as HEADERS, the body as DATA, chunked trailers as
// HTTP/2 trailers. Stream events go to module-level handlers that find the view on the stream.
import http2 from 'node:http2';
import { badRequest } from '../errors.js';
import { resetByProxy, type H2Downstream } from './downstream.js';
import { forwardH1, type H1Peer } from './h1-forwarder.js';
import type { H1BodyConsumer } from './h1-downstream.js';
import { h1FieldsFromH2, h2FieldsFromH1 } from './head-translation.js';
import type { RequestContext } from './request-context.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

const kView = Symbol('trellis.h1View');
type ViewStream = http2.ServerHttp2Stream & { [kView]?: H2AsH1Downstream };

/** Starts forwarding `ctx` (an HTTP/2 request) to `endpoint` over HTTP/1.1; a request HTTP/1.1 cannot carry is a 400. */
export function forwardH2ToH1(ctx: RequestContext, endpoint: UpstreamEndpoint, connectTimeoutMs: number): void {
  const down = ctx.downstream as H2Downstream;
  const fields = h1FieldsFromH2(down.headers, !down.endStream);
  if (!fields.ok) return ctx.fail(badRequest(fields.error));
  forwardH1(ctx, endpoint, connectTimeoutMs, new H2AsH1Downstream(down.stream, fields.value));
}

class H2AsH1Downstream implements H1Peer {
  private consumer: H1BodyConsumer | undefined = undefined;
  /** Trailers of a chunked upstream response, sent when the stream asks for them. */
  private trailers: readonly string[] | undefined = undefined;
  /** Restarts the upstream connection paused until the client takes more (set while it waits). */
  private resumeUpstream: (() => void) | undefined = undefined;

  constructor(
    private readonly stream: ViewStream,
    /** The request's fields in HTTP/1.1 terms (no Host: buildH1RequestHead writes the authority). */
    readonly rawHeaders: readonly string[],
  ) {
    stream[kView] = this;
  }

  readBody(consumer: H1BodyConsumer): void {
    this.consumer = consumer;
    const stream = this.stream;
    if (stream.readableEnded) return consumer.onBodyEnd();
    stream.on('data', onRequestData);
    stream.once('end', onRequestEnd);
  }

  pauseBody(paused: boolean): void {
    if (paused) this.stream.pause();
    else this.stream.resume();
  }

  discardBody(): void {
    this.consumer = undefined;
    this.stream.resume();
  }

  writeHead(status: number, _reason: string, headers: readonly string[]): void {
    // HTTP/2 has no reason phrase; a field it cannot carry fails like an invalid response.
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    try {
      stream.respond(h2FieldsFromH1(status, headers), { waitForTrailers: true });
    } catch {
      resetByProxy(stream, NGHTTP2_INTERNAL_ERROR);
      return;
    }
    stream.once('wantTrailers', onWantTrailers);
  }

  writeBody(chunk: Buffer): boolean {
    const stream = this.stream;
    return stream.destroyed || !stream.headersSent ? true : stream.write(chunk);
  }

  whenDrained(resume: () => void): void {
    this.resumeUpstream = resume;
    this.stream.once('drain', onDrain);
  }

  drained(): void {
    const resume = this.resumeUpstream;
    this.resumeUpstream = undefined;
    resume?.();
  }

  end(last: Buffer | undefined, trailers: readonly string[] | undefined): void {
    const stream = this.stream;
    if (stream.destroyed || !stream.headersSent) return;
    this.trailers = trailers;
    if (last !== undefined && last.length > 0) stream.end(last);
    else stream.end();
    // An ending stream emits no 'drain': the upstream connection paused for the last bytes reads
    // again now (it goes back to the pool, for the next request).
    if (this.resumeUpstream !== undefined) {
      stream.removeListener('drain', onDrain);
      this.drained();
    }
  }

  flushHead(): void {
    // HEADERS went out with respond().
  }

  requestData(chunk: Buffer): void {
    this.consumer?.onBody(chunk);
  }

  requestEnd(): void {
    const stream = this.stream;
    // node ends a stream the client reset like a clean one: a truncated body is not delivered as complete.
    if (stream.aborted || (stream.rstCode ?? 0) !== 0) return;
    this.consumer?.onBodyEnd();
  }

  sendTrailers(): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    try {
      stream.sendTrailers(this.trailers === undefined ? {} : h2FieldsFromH1(undefined, this.trailers));
    } catch {
      resetByProxy(stream, NGHTTP2_INTERNAL_ERROR);
    }
  }
}

function onRequestData(this: ViewStream, chunk: Buffer): void {
  this[kView]!.requestData(chunk);
}
function onRequestEnd(this: ViewStream): void {
  this[kView]!.requestEnd();
}
function onDrain(this: ViewStream): void {
  this[kView]!.drained();
}
function onWantTrailers(this: ViewStream): void {
  this[kView]!.sendTrailers();
}
