// Forwards an HTTP/1.x request to an HTTP/2-only upstream (an app port declared http2 or grpc)
// as a stream on the endpoint's h2c session: the head translated (head-translation.ts), the
// body written as DATA frames with backpressure both ways, the response relayed in the client's
// framing (its Content-Length kept, chunked otherwise) with HTTP/2 trailers as chunked trailers
// to a client that sent `te: trailers` (dropped otherwise, and when the response is not chunked). Failures map as on the HTTP/2 path: a reset or
// GOAWAY before the response is a 502 (REFUSED_STREAM on a bodiless request: retried once,
// the upstream never processed it); after it, the client's connection is broken off.
import http2 from 'node:http2';
import { badRequest, upstreamConnectFailed, upstreamProtocolError, upstreamReset, type ProxyError } from '../errors.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import { H2SessionPool } from '../pool/h2-session-pool.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import type { H1BodyConsumer, H1Downstream } from './h1-downstream.js';
import { h1FieldsFromH2Response, h2RequestFromH1 } from './head-translation.js';
import { modifyFlat, modifyObject } from './header-mods.js';
import type { RequestContext, UpstreamCall } from './request-context.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;

const kCall = Symbol('trellis.h1ToH2Call');
/** A `te` request field naming `trailers`. */
const TE_TRAILERS = /(?:^|,)\s*trailers\s*(?:$|[,;])/i;
type CallStream = http2.ClientHttp2Stream & { [kCall]?: H1ToH2Call };

/** Starts forwarding `ctx` (an HTTP/1.x request) to `endpoint` over HTTP/2. */
export function forwardH1ToH2(ctx: RequestContext, endpoint: UpstreamEndpoint, connectTimeoutMs: number): void {
  const down = ctx.downstream as H1Downstream;
  const headers = h2RequestFromH1(ctx.method, ctx.path, down.rawHeaders, ctx.authority, ctx.upstreamHeaders, ctx.upstreamEdit);
  if (!headers.ok) return ctx.fail(badRequest(headers.error));
  const mods = ctx.route?.rule.requestHeaders;
  if (mods !== undefined) modifyObject(headers.value, mods);
  const call = new H1ToH2Call(ctx, down, endpoint);
  ctx.upstream = call;
  call.start(headers.value, connectTimeoutMs);
}

class H1ToH2Call implements UpstreamCall, H1BodyConsumer {
  private up: CallStream | undefined = undefined;
  private session: http2.ClientHttp2Session | undefined = undefined;
  private finished = false;
  private responded = false;
  /** The request body is being read from the client into this call's stream. */
  private readingBody = false;
  /** The client's body is paused until the upstream stream drains. */
  private bodyPaused = false;
  private error: Error | undefined = undefined;
  private trailers: string[] | undefined = undefined;

  constructor(
    private readonly ctx: RequestContext,
    private readonly down: H1Downstream,
    private readonly endpoint: UpstreamEndpoint,
  ) {
    endpoint.active++;
  }

  start(headers: http2.OutgoingHttpHeaders, connectTimeoutMs: number): void {
    const hasBody = this.down.hasBody;
    let up: CallStream;
    try {
      const session = this.endpoint.h2.acquire(connectTimeoutMs);
      this.session = session;
      up = session.request(headers, { endStream: !hasBody });
    } catch (e) {
      this.fail(upstreamConnectFailed(this.endpoint.key, e));
      return;
    }
    this.up = up;
    up[kCall] = this;
    up.on('response', onResponse);
    up.on('trailers', onTrailers);
    up.on('error', onError);
    up.on('close', onClose);
    if (!hasBody) return;
    const replay = this.ctx.replay;
    if (replay !== undefined && replay.started) {
      // A retry: the body kept by the first attempt (complete, or the retry layer would not retry).
      for (const c of replay.chunks) up.write(c);
      up.end();
      return;
    }
    if (replay !== undefined) replay.started = true;
    up.on('drain', onDrain);
    this.readingBody = true;
    this.down.readBody(this);
  }

  onBody(chunk: Buffer): void {
    const ctx = this.ctx;
    ctx.replay?.record(chunk);
    ctx.requestBytes += chunk.length;
    const up = this.up!;
    if (!up.destroyed && !up.write(chunk)) {
      this.bodyPaused = true;
      this.down.pauseBody(true);
    }
  }

  onBodyEnd(): void {
    this.readingBody = false;
    this.ctx.replay?.end();
    // An ending stream emits no 'drain': a pause for the last bytes ends here.
    if (this.bodyPaused) this.upstreamDrained();
    const up = this.up!;
    if (!up.destroyed) up.end();
  }

  upstreamDrained(): void {
    this.bodyPaused = false;
    this.down.pauseBody(false);
  }

  onResponse(h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number): void {
    if (this.finished) return;
    const status = h[':status'] ?? 502;
    if (this.ctx.upstreamHead(status, NO_GRPC_STATUS)) {
      this.cancel(); // a retry took over; this response is dropped
      return;
    }
    this.ctx.status = status;
    const fields = h1FieldsFromH2Response(h);
    const mods = this.ctx.route?.rule.responseHeaders;
    try {
      this.down.writeHead(status, '', mods === undefined ? fields : modifyFlat(fields, mods));
    } catch (e) {
      this.up!.close(NGHTTP2_CANCEL);
      this.fail(upstreamProtocolError(this.endpoint.key, `response could not be relayed: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    this.responded = true;
    const up = this.up!;
    up.on('data', onData);
    // A body that does not follow at once (a slow or streaming upstream): the head goes without it.
    if ((flags & NGHTTP2_FLAG_END_STREAM) === 0) setImmediate(flushHead, this);
  }

  responseData(chunk: Buffer): void {
    this.ctx.responseBytes += chunk.length;
    if (!this.down.writeBody(chunk)) {
      const up = this.up!;
      up.pause();
      this.down.whenDrained(() => up.resume());
    }
  }

  flushHead(): void {
    if (!this.finished) this.down.flushHead();
  }

  trailersReceived(t: http2.IncomingHttpHeaders): void {
    // Only to a client that said it takes them (RFC 9110 10.1.4); the rest would go unread.
    if (TE_TRAILERS.test(this.down.header('te') ?? '')) this.trailers = h1FieldsFromH2Response(t);
    const g = t['grpc-status'];
    if (g !== undefined) this.ctx.grpcStatus = Number(g);
  }

  upstreamError(e: Error): void {
    this.error = e;
  }

  upstreamClosed(): void {
    if (this.finished) return;
    const up = this.up!;
    const rst = up.rstCode ?? NGHTTP2_NO_ERROR;
    if (!this.responded) {
      const session = this.session;
      if (session !== undefined && !H2SessionPool.connected(session)) {
        this.fail(upstreamConnectFailed(this.endpoint.key, this.error ?? 'session closed before it connected'));
        return;
      }
      const error = upstreamReset(this.endpoint.key, this.error ?? `stream reset with code ${rst}`);
      // REFUSED_STREAM (also what a GOAWAY gives the streams it did not take): never processed.
      this.fail(rst === NGHTTP2_REFUSED_STREAM && !this.down.hasBody ? { ...error, unprocessed: true } : error);
      return;
    }
    this.finish();
    if (rst === NGHTTP2_NO_ERROR && this.error === undefined) this.down.end(undefined, this.trailers);
    else this.down.abort();
  }

  cancel(): void {
    if (this.finished) return;
    this.finish();
    const up = this.up;
    if (up !== undefined && !up.destroyed) up.close(NGHTTP2_CANCEL);
  }

  private fail(error: ProxyError): void {
    this.finish();
    this.ctx.attemptFailed(error);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.readingBody) {
      this.readingBody = false;
      this.down.discardBody(); // read the rest and drop it, so the client's connection stays usable
    }
    this.endpoint.active--;
    if (this.ctx.upstream === this) this.ctx.upstream = undefined;
  }
}

// The stream event handlers, `this` being the upstream stream (its call is on it, kCall).
function onResponse(this: CallStream, h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number): void {
  this[kCall]!.onResponse(h, flags);
}
function onTrailers(this: CallStream, t: http2.IncomingHttpHeaders): void {
  this[kCall]!.trailersReceived(t);
}
function onError(this: CallStream, e: Error): void {
  this[kCall]!.upstreamError(e);
}
function onClose(this: CallStream): void {
  this[kCall]!.upstreamClosed();
}
function onData(this: CallStream, chunk: Buffer): void {
  this[kCall]!.responseData(chunk);
}
function onDrain(this: CallStream): void {
  this[kCall]!.upstreamDrained();
}
function flushHead(call: H1ToH2Call): void {
  call.flushHead();
}
