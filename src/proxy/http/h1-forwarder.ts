// Forwards an HTTP/1.x request to an upstream endpoint over a pooled keep-alive connection:
// the head as one write, the body streamed with backpressure, the response relayed to the
// downstream connection as it is parsed. A reused connection that fails before any response
// byte, for a request without a body, fails the attempt as `unprocessed` (the keep-alive race):
// the retry layer sends it again on a fresh connection. A WebSocket upgrade is passed on; its
// 101 turns both connections into a byte relay (h1-upgrade.ts); another upgrade gets 403.
import { BodyFraming, buildH1RequestHead } from './h1-request-head.js';
import type { H1Connection, H1Exchange } from '../pool/h1-connection.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { upstreamProtocolError, type ProxyError } from '../errors.js';
import type { H1UpgradeResponse } from '../pool/h1-response-parser.js';
import type net from 'node:net';
import { relayUpgraded, upgradeRefusal } from './h1-upgrade.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import { modifyFlat } from './header-mods.js';
import type { BodyReplay } from './body-replay.js';
import type { H1BodyConsumer, H1Downstream } from './h1-downstream.js';
import type { RequestContext, UpstreamCall } from './request-context.js';

/** Starts forwarding `ctx` (an HTTP/1.x request) to `endpoint`. */
export function forwardH1(ctx: RequestContext, endpoint: UpstreamEndpoint, connectTimeoutMs: number): void {
  const upgrade = (ctx.downstream as H1Downstream).head.upgrade;
  if (upgrade !== undefined) {
    const refusal = upgradeRefusal(upgrade);
    if (refusal !== undefined) return ctx.fail(refusal);
  }
  const call = new H1Call(ctx, ctx.downstream as H1Downstream, endpoint, connectTimeoutMs);
  ctx.upstream = call;
  call.send(ctx.freshConnection);
}

class H1Call implements H1Exchange, UpstreamCall, H1BodyConsumer {
  private conn: H1Connection | null = null;
  private readonly head: string;
  private readonly framing: BodyFraming;
  /** The request asks for an upgrade (WebSocket). */
  private readonly upgrade: boolean;
  private finished = false;
  /** The connection the body is being streamed to (set while it is). */
  private bodyTo: H1Connection | null = null;

  constructor(
    private readonly ctx: RequestContext,
    private readonly down: H1Downstream,
    private readonly endpoint: UpstreamEndpoint,
    private readonly connectTimeoutMs: number,
  ) {
    const mods = ctx.route?.rule.requestHeaders;
    const raw = mods === undefined ? down.rawHeaders : modifyFlat(down.rawHeaders, mods);
    const upgrade = down.head.upgrade;
    const built = buildH1RequestHead(ctx.method, ctx.path, raw, ctx.authority, ctx.authorityOverride, ctx.upstreamHeaders, upgrade);
    this.head = built.head;
    this.framing = built.framing;
    this.upgrade = upgrade !== undefined;
    endpoint.active++;
  }

  send(fresh: boolean): void {
    const conn = this.endpoint.h1.acquire(this.connectTimeoutMs, fresh);
    this.conn = conn;
    conn.dispatch(this, this.head, this.ctx.method === 'HEAD', this.framing === BodyFraming.None, this.upgrade);
    if (this.framing === BodyFraming.None) return;
    const replay = this.ctx.replay;
    if (replay !== undefined && replay.started) this.writeReplay(conn, replay);
    else {
      if (replay !== undefined) replay.started = true;
      this.pipeBody(conn);
    }
  }

  cancel(): void {
    if (this.finished) return;
    this.finish();
    const conn = this.conn;
    if (conn !== null) conn.cancel(this);
  }

  onResponseHead(status: number, reason: string, headers: string[]): void {
    if (this.ctx.upstreamHead(status, NO_GRPC_STATUS)) {
      this.cancel(); // a retry took over; this response is dropped with its connection
      return;
    }
    this.ctx.status = status;
    const mods = this.ctx.route?.rule.responseHeaders;
    this.down.writeHead(status, reason, mods === undefined ? headers : modifyFlat(headers, mods));
  }

  onResponseBody(chunk: Buffer): void {
    this.ctx.responseBytes += chunk.length;
    if (!this.down.writeBody(chunk)) {
      // Downstream is slower than upstream: stop reading upstream until it drains.
      const socket = this.conn!.socket;
      socket.pause();
      this.down.whenDrained(() => socket.resume());
    }
  }

  onResponseComplete(last: Buffer | undefined, trailers: string[] | undefined): void {
    this.finish();
    if (last !== undefined) this.ctx.responseBytes += last.length;
    this.down.end(last, trailers);
  }

  onUpgrade(response: H1UpgradeResponse, socket: net.Socket): void {
    if (this.finished || this.ctx.upstreamHead(101, NO_GRPC_STATUS)) {
      this.finish();
      socket.destroy();
      return;
    }
    this.finish();
    const problem = relayUpgraded(this.ctx, this.down, this.endpoint, response, socket);
    if (problem !== undefined) this.ctx.fail(upstreamProtocolError(this.endpoint.key, problem));
  }

  onResponseContinue(): void {
    // The downstream connection already sent 100 Continue when the client asked for it.
  }

  onResponseWaiting(): void {
    // A head whose body is not all here (a slow or streaming upstream) goes without waiting for it.
    if (!this.finished) this.down.flushHead();
  }

  onExchangeError(error: ProxyError, retryable: boolean): void {
    if (this.finished) return;
    this.finish();
    this.ctx.attemptFailed(retryable && this.framing === BodyFraming.None ? { ...error, unprocessed: true } : error);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.bodyTo !== null) {
      this.bodyTo = null;
      this.down.discardBody(); // read the rest and drop it, so the downstream connection stays usable
    }
    this.endpoint.active--;
    if (this.ctx.upstream === this) this.ctx.upstream = undefined;
  }

  /** A retry: writes the body kept by the first attempt (complete, or the retry layer would not retry). */
  private writeReplay(conn: H1Connection, replay: BodyReplay): void {
    const chunked = this.framing === BodyFraming.Chunked;
    for (const data of replay.chunks) {
      if (chunked) conn.write(data.length.toString(16) + '\r\n');
      conn.write(data);
      if (chunked) conn.write('\r\n');
    }
    conn.endRequest(chunked ? '0\r\n\r\n' : undefined);
  }

  /** Streams the downstream body to `conn`, re-chunking it when the client sent it chunked. */
  private pipeBody(conn: H1Connection): void {
    this.bodyTo = conn;
    this.down.readBody(this);
  }

  onBody(data: Buffer): void {
    this.ctx.replay?.record(data);
    const conn = this.bodyTo;
    if (conn === null || conn.destroyed) return;
    this.ctx.requestBytes += data.length;
    const chunked = this.framing === BodyFraming.Chunked;
    if (chunked) conn.write(data.length.toString(16) + '\r\n');
    const ok = conn.write(data);
    if (chunked) conn.write('\r\n');
    if (!ok) {
      this.down.pauseBody(true);
      conn.socket.once('drain', () => this.down.pauseBody(false));
    }
  }

  onBodyEnd(): void {
    this.ctx.replay?.end();
    const conn = this.bodyTo;
    this.bodyTo = null;
    if (conn !== null && !conn.destroyed) conn.endRequest(this.framing === BodyFraming.Chunked ? '0\r\n\r\n' : undefined);
  }
}
