// Forwards an HTTP/2 request (gRPC included) to an upstream endpoint as a stream on its one
// multiplexed h2c session: headers without connection-specific fields, bodies written through
// both ways with flow-control backpressure, trailers (grpc-status) relayed with waitForTrailers,
// resets propagated both ways. Stream events go to handlers defined once at module level, which
// find their call on the stream (kCall): no closure, pipe or listener set-up per stream beyond
// the events themselves (a Readable.pipe pair cost more than the rest of this file per stream).
import http2 from 'node:http2';
import { upstreamConnectFailed, upstreamProtocolError, upstreamReset, type ProxyError } from '../errors.js';
import { H2SessionPool } from '../pool/h2-session-pool.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import { modifyObject } from './header-mods.js';
import { resetByProxy, type H2Downstream } from './downstream.js';
import { h2RequestHeaders } from './h2-request-headers.js';
import type { RequestContext, UpstreamCall } from './request-context.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR } = http2.constants;

const SKIP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** The call a stream's events belong to: the upstream stream's own; on the downstream stream, the call relaying the response to it. */
const kCall = Symbol('trellis.h2Call');
/** On the downstream stream: the call its request body streams to (the first attempt; a retry replays the body). */
const kBodyCall = Symbol('trellis.h2BodyCall');
type CallStream<S extends http2.Http2Stream> = S & { [kCall]?: H2Call; [kBodyCall]?: H2Call };

/** Starts forwarding `ctx` (an HTTP/2 request) to `endpoint`. */
export function forwardH2(ctx: RequestContext, endpoint: UpstreamEndpoint, connectTimeoutMs: number): void {
  const call = new H2Call(ctx, ctx.downstream as H2Downstream, endpoint);
  ctx.upstream = call;
  call.start(connectTimeoutMs);
}

class H2Call implements UpstreamCall {
  private up: http2.ClientHttp2Stream | undefined;
  private session: http2.ClientHttp2Session | undefined;
  private trailers: http2.IncomingHttpHeaders | undefined;
  private finished = false;
  private responded = false;
  private error: Error | undefined;

  constructor(
    private readonly ctx: RequestContext,
    private readonly down: H2Downstream,
    private readonly endpoint: UpstreamEndpoint,
  ) {
    endpoint.active++;
  }

  start(connectTimeoutMs: number): void {
    const { ctx, down } = this;
    const headers = h2RequestHeaders(ctx, down.headers, ctx.authority);
    let up: http2.ClientHttp2Stream;
    try {
      const session = this.endpoint.h2.acquire(connectTimeoutMs);
      this.session = session;
      up = session.request(headers, { endStream: down.endStream });
    } catch (err) {
      this.fail(upstreamConnectFailed(this.endpoint.key, err));
      return;
    }
    this.up = up;
    (up as CallStream<http2.ClientHttp2Stream>)[kCall] = this;
    up.on('response', onUpstreamResponse);
    up.on('trailers', onUpstreamTrailers);
    up.on('error', onUpstreamError);
    up.on('close', onUpstreamClose);
    if (!down.endStream) {
      const replay = ctx.replay;
      if (replay !== undefined && replay.started) {
        // A retry: the body kept by the first attempt (complete, or the retry layer would not retry).
        for (const c of replay.chunks) up.write(c);
        up.end();
      } else {
        if (replay !== undefined) replay.started = true;
        const stream = down.stream as CallStream<http2.ServerHttp2Stream>;
        stream[kBodyCall] = this;
        stream.on('data', onRequestData);
        stream.once('end', onRequestEnd);
        up.on('drain', onUpstreamDrain);
      }
    }
  }

  /** A chunk of the request body: kept for a retry, counted, written upstream (the client waits while upstream is full). */
  requestData(chunk: Buffer): void {
    const ctx = this.ctx;
    ctx.replay?.record(chunk);
    ctx.requestBytes += chunk.length;
    const up = this.up!;
    if (!up.destroyed && !up.write(chunk)) this.down.stream.pause();
  }

  requestEnd(): void {
    // node ends the readable side of a stream the client reset like a clean end: ending the
    // upstream request then would deliver a truncated body as complete (upstream, to a retry or
    // a mirror). A reset is passed on.
    const stream = this.down.stream;
    const reset = stream.aborted || (stream.rstCode ?? 0) !== 0;
    if (!reset) this.ctx.replay?.end();
    const up = this.up!;
    if (up.destroyed) return;
    if (reset) up.close(NGHTTP2_CANCEL);
    else up.end();
  }

  /** A chunk of the response body: counted, written downstream (upstream waits while the client is slow). */
  responseData(chunk: Buffer): void {
    this.ctx.responseBytes += chunk.length;
    const stream = this.down.stream;
    if (!stream.destroyed && !stream.write(chunk)) this.up!.pause();
  }

  /** Upstream can take more of the request body. */
  upstreamDrained(): void {
    this.down.stream.resume();
  }

  /** The client can take more of the response body. */
  downstreamDrained(): void {
    this.up?.resume();
  }

  trailersReceived(t: http2.IncomingHttpHeaders): void {
    this.trailers = t;
    const g = t['grpc-status'];
    if (g !== undefined) this.ctx.grpcStatus = Number(g);
  }

  sendTrailers(): void {
    const stream = this.down.stream;
    const t = this.trailers;
    const trailers: http2.OutgoingHttpHeaders = {};
    if (t !== undefined) for (const name in t) if (name.charCodeAt(0) !== 58) trailers[name] = t[name];
    if (!stream.destroyed) stream.sendTrailers(trailers);
  }

  upstreamError(err: Error): void {
    this.error = err;
  }

  cancel(): void {
    if (this.finished) return;
    this.finish();
    const up = this.up;
    if (up !== undefined && !up.destroyed) up.close(NGHTTP2_CANCEL);
  }

  onResponse(h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number): void {
    if (this.finished) return;
    const stream = this.down.stream;
    if (stream.destroyed || stream.closed) return;
    const status = h[':status'] ?? 502;
    const early = (flags & NGHTTP2_FLAG_END_STREAM) !== 0 && h['grpc-status'] !== undefined ? Number(h['grpc-status']) : NO_GRPC_STATUS;
    if (this.ctx.upstreamHead(status, early)) {
      this.cancel(); // a retry took over; this response is dropped
      return;
    }
    this.ctx.status = status;
    const out: http2.OutgoingHttpHeaders = { ':status': status };
    for (const name in h) {
      if (name.charCodeAt(0) === 58 || SKIP_RESPONSE.has(name)) continue;
      out[name] = h[name];
    }
    const trailersOnly = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const mods = this.ctx.route?.rule.responseHeaders;
    if (mods !== undefined) modifyObject(out, mods);
    try {
      // Trailers-only (a gRPC error) stays one HEADERS frame so the client reads grpc-status.
      stream.respond(out, trailersOnly ? { endStream: true } : { waitForTrailers: true });
    } catch (e) {
      this.up?.close(NGHTTP2_CANCEL);
      this.fail(upstreamProtocolError(this.endpoint.key, `response could not be relayed: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    this.responded = true;
    if (trailersOnly) {
      const g = h['grpc-status'];
      if (g !== undefined) this.ctx.grpcStatus = Number(g);
      return;
    }
    (stream as CallStream<http2.ServerHttp2Stream>)[kCall] = this;
    stream.once('wantTrailers', onWantTrailers);
    stream.on('drain', onDownstreamDrain);
    this.up!.on('data', onResponseData);
  }

  upstreamClosed(): void {
    if (this.finished) return;
    const up = this.up!;
    const rst = up.rstCode ?? NGHTTP2_NO_ERROR;
    if (!this.responded) {
      const session = this.session;
      const error =
        session !== undefined && !H2SessionPool.connected(session)
          ? upstreamConnectFailed(this.endpoint.key, this.error ?? 'session closed before it connected')
          : upstreamReset(this.endpoint.key, this.error ?? `stream reset with code ${rst}`);
      this.fail(error);
      return;
    }
    this.finish();
    // The response started. node ends the readable side of a reset stream like a clean one, so
    // the pipe does not end the downstream: a clean close ends it (then trailers), a reset is passed on.
    const stream = this.down.stream;
    if (stream.destroyed || stream.closed) return;
    if (rst === NGHTTP2_NO_ERROR && this.error === undefined) stream.end();
    else resetByProxy(stream, rst === NGHTTP2_NO_ERROR ? NGHTTP2_INTERNAL_ERROR : rst);
  }

  private fail(error: ProxyError): void {
    this.finish();
    this.ctx.attemptFailed(error);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.endpoint.active--;
    if (this.ctx.upstream === this) this.ctx.upstream = undefined;
  }
}

// The stream event handlers, `this` being the stream (its call is on it, kCall).
function onUpstreamResponse(this: CallStream<http2.ClientHttp2Stream>, h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number): void {
  this[kCall]!.onResponse(h, flags);
}
function onUpstreamTrailers(this: CallStream<http2.ClientHttp2Stream>, t: http2.IncomingHttpHeaders): void {
  this[kCall]!.trailersReceived(t);
}
function onUpstreamError(this: CallStream<http2.ClientHttp2Stream>, err: Error): void {
  this[kCall]!.upstreamError(err);
}
function onUpstreamClose(this: CallStream<http2.ClientHttp2Stream>): void {
  this[kCall]!.upstreamClosed();
}
function onResponseData(this: CallStream<http2.ClientHttp2Stream>, chunk: Buffer): void {
  this[kCall]!.responseData(chunk);
}
function onDownstreamDrain(this: CallStream<http2.ServerHttp2Stream>): void {
  this[kCall]!.downstreamDrained();
}
function onWantTrailers(this: CallStream<http2.ServerHttp2Stream>): void {
  this[kCall]!.sendTrailers();
}
function onRequestData(this: CallStream<http2.ServerHttp2Stream>, chunk: Buffer): void {
  this[kBodyCall]!.requestData(chunk);
}
function onRequestEnd(this: CallStream<http2.ServerHttp2Stream>): void {
  this[kBodyCall]!.requestEnd();
}
function onUpstreamDrain(this: CallStream<http2.ClientHttp2Stream>): void {
  this[kCall]!.upstreamDrained();
}
