// Forwards an HTTP/1.x request to an upstream endpoint over a pooled keep-alive connection:
// the head as one write, the body streamed with backpressure, the response relayed to the
// downstream connection as it is parsed. A reused connection that fails before any response
// byte, for a request without a body, fails the attempt as `unprocessed` (the keep-alive race):
// the retry layer sends it again on a fresh connection. A response a retry took over (a 5xx) is
// read and dropped, so that its connection, healthy, goes back to the pool. A WebSocket upgrade
// is passed on; its 101 turns both connections into a byte relay (h1-upgrade.ts); another
// upgrade gets 403.
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

/** A response a retry took over is read and dropped (keeping its connection) up to this size... */
const MAX_DROPPED_BYTES = 64 * 1024;
/** ...and for this long after its head; past either, its connection closes instead. */
const DROP_TIMEOUT_MS = 1000;

/**
 * What an HTTP/1.1 upstream exchange reads the request from and writes the response to: the
 * HTTP/1.x downstream itself, or an HTTP/2 one seen through h2-as-h1-downstream.ts.
 */
export type H1Peer = Pick<H1Downstream, 'rawHeaders' | 'readBody' | 'pauseBody' | 'discardBody' | 'writeHead' | 'writeBody' | 'whenDrained' | 'end' | 'flushHead'>;

/** Starts forwarding `ctx` (an HTTP/1.x request, or `down`'s) to `endpoint`. */
export function forwardH1(ctx: RequestContext, endpoint: UpstreamEndpoint, connectTimeoutMs: number, down: H1Peer = ctx.downstream as H1Downstream): void {
  // Only an HTTP/1.x client asks for an upgrade (an HTTP/2 one seen as HTTP/1.1 never does).
  const upgradeFrom = ctx.downstream.protocol !== 'h2' && (down as H1Downstream).head.upgrade !== undefined ? (down as H1Downstream) : undefined;
  if (upgradeFrom !== undefined) {
    const refusal = upgradeRefusal(upgradeFrom.head.upgrade!);
    if (refusal !== undefined) return ctx.fail(refusal);
  }
  const call = new H1Call(ctx, down, endpoint, connectTimeoutMs, upgradeFrom);
  ctx.upstream = call;
  call.send(ctx.freshConnection);
}

function onDropTimeout(call: H1Call): void {
  call.abandonDropped();
}

class H1Call implements H1Exchange, UpstreamCall, H1BodyConsumer {
  private conn: H1Connection | null = null;
  private readonly head: string;
  private readonly framing: BodyFraming;
  private finished = false;
  /** The connection the body is being streamed to (set while it is). */
  private bodyTo: H1Connection | null = null;
  /** A retry took over: the rest of this response is read and dropped to keep its connection. */
  private dropping = false;
  private dropped = 0;
  private dropTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly ctx: RequestContext,
    private readonly down: H1Peer,
    private readonly endpoint: UpstreamEndpoint,
    private readonly connectTimeoutMs: number,
    /** The HTTP/1.x client whose request asks for an upgrade (WebSocket), if it does. */
    private readonly upgradeFrom: H1Downstream | undefined,
  ) {
    const mods = ctx.route?.rule.requestHeaders;
    const raw = mods === undefined ? down.rawHeaders : modifyFlat(down.rawHeaders, mods);
    const built = buildH1RequestHead(ctx.method, ctx.path, raw, ctx.authority, ctx.authorityOverride, ctx.upstreamHeaders, upgradeFrom?.head.upgrade, ctx.upstreamEdit);
    this.head = built.head;
    this.framing = built.framing;
    endpoint.active++;
  }

  send(fresh: boolean): void {
    const conn = this.endpoint.h1.acquire(this.connectTimeoutMs, fresh);
    this.conn = conn;
    conn.dispatch(this, this.head, this.ctx.method === 'HEAD', this.framing === BodyFraming.None, this.upgradeFrom !== undefined);
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
      this.dropResponse(); // a retry took over
      return;
    }
    this.ctx.status = status;
    const mods = this.ctx.route?.rule.responseHeaders;
    this.down.writeHead(status, reason, mods === undefined ? headers : modifyFlat(headers, mods));
  }

  onResponseBody(chunk: Buffer): void {
    if (this.dropping) return this.dropBody(chunk.length);
    this.ctx.responseBytes += chunk.length;
    if (!this.down.writeBody(chunk)) {
      // Downstream is slower than upstream: stop reading upstream until it drains.
      const socket = this.conn!.socket;
      socket.pause();
      this.down.whenDrained(() => socket.resume());
    }
  }

  onResponseComplete(last: Buffer | undefined, trailers: string[] | undefined): void {
    if (this.dropping) return this.stopDropping(); // read whole: the connection goes back to the pool
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
    if (this.upgradeFrom === undefined) {
      socket.destroy();
      return this.ctx.fail(upstreamProtocolError(this.endpoint.key, 'a 101 answered a request that asked for no upgrade'));
    }
    const problem = relayUpgraded(this.ctx, this.upgradeFrom, this.endpoint, response, socket);
    if (problem !== undefined) this.ctx.fail(upstreamProtocolError(this.endpoint.key, problem));
  }

  onResponseContinue(): void {
    // The downstream connection already sent 100 Continue when the client asked for it.
  }

  onResponseWaiting(): void {
    // A head whose body is not all here (a slow or streaming upstream) goes without waiting for it.
    if (!this.finished) this.down.flushHead();
    else if (this.dropping) this.dropTimer ??= setTimeout(onDropTimeout, DROP_TIMEOUT_MS, this);
  }

  onExchangeError(error: ProxyError, retryable: boolean): void {
    if (this.dropping) return this.stopDropping();
    if (this.finished) return;
    this.finish();
    this.ctx.attemptFailed(retryable && this.framing === BodyFraming.None ? { ...error, unprocessed: true } : error);
  }

  /**
   * The request is done with this response (a retry took over), but a response read whole leaves
   * its connection fit for the next request: the rest is read and dropped, as long as it is at most
   * MAX_DROPPED_BYTES and comes within DROP_TIMEOUT_MS; otherwise the connection closes.
   */
  private dropResponse(): void {
    this.finish();
    if (this.conn === null || this.conn.destroyed) return;
    this.dropping = true;
  }

  private dropBody(bytes: number): void {
    this.dropped += bytes;
    if (this.dropped > MAX_DROPPED_BYTES) this.abandonDropped();
  }

  /** The dropped response is taking too long or is too large: its connection closes. */
  abandonDropped(): void {
    if (!this.dropping) return;
    this.stopDropping();
    this.conn?.cancel(this);
  }

  private stopDropping(): void {
    this.dropping = false;
    if (this.dropTimer !== undefined) clearTimeout(this.dropTimer);
    this.dropTimer = undefined;
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
