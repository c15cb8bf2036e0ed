// One downstream HTTP/1.x connection, served without node:http: bytes from the socket go to
// the request parser; each request becomes an H1Downstream the listener serves; the next
// request is parsed once the response to this one is written (pipelined requests wait in the
// buffer, the socket paused). The listener's sweep enforces the request-head deadline (408),
// the keep-alive timeout, and the idle timeout of a request in flight (no byte either way):
// a per-socket timer would be re-armed on every read and write. A request the upstream answered
// with 101 takes the socket over (a byte relay); the sweep's idle timeout still applies to it.
import type net from 'node:net';
import { requestHeadTimeout, type ProxyError } from '../errors.js';
import { H1Downstream, type H1ExchangeOwner } from '../http/h1-downstream.js';
import { H1RequestParser, type H1RequestHead, type H1RequestSink } from '../http/h1-request-parser.js';
import { rawH1ErrorResponse } from '../http/error-response.js';
import type { DownstreamLimits, RejectReason } from './downstream-limits.js';

/** What a connection needs from its listener. */
export interface H1ConnectionHost {
  readonly limits: DownstreamLimits;
  /** True once the listener is draining: responses close their connections. */
  readonly draining: boolean;
  /** Serves one request (the listener builds its context and runs the stack). */
  serve(down: H1Downstream, peer: string | undefined): void;
  rejected(reason: RejectReason): void;
  /** The connection is gone. */
  closed(conn: H1ServerConnection): void;
}

const enum Phase {
  /** Between requests: nothing of the next one arrived. */
  Idle,
  /** Part of a request head arrived. */
  Head,
  /** A request is being served. */
  Busy,
  /** The connection switched protocols (101): its exchange relays bytes and reports its end. */
  Upgraded,
}

export class H1ServerConnection implements H1ExchangeOwner, H1RequestSink {
  private readonly parser: H1RequestParser;
  private phase = Phase.Head;
  /** When the current phase began (Date.now()), for the sweep. */
  private since = Date.now();
  /** Bytes read and written when the sweep last saw them change, and when that was (Busy phase). */
  private activity = 0;
  private activeAt = 0;
  private current: H1Downstream | undefined = undefined;
  /** Bytes read past the current request (pipelined), parsed once its response is out. */
  private stash: Buffer | undefined = undefined;
  private pausedForBody = false;
  private closing = false;

  constructor(
    readonly socket: net.Socket,
    private readonly host: H1ConnectionHost,
    private readonly peer: string | undefined,
  ) {
    this.parser = new H1RequestParser(this, host.limits.maxRequestHeadBytes);
    socket.on('data', this.onDataEvent);
    socket.on('error', ignore);
    socket.once('close', () => this.onClose());
    socket.resume();
  }

  private readonly onDataEvent = (data: Buffer): void => this.onData(data);

  /**
   * The listener's sweep: a head past its deadline gets 408, an idle keep-alive connection
   * closes, and so does one whose request saw no byte either way for the idle timeout.
   */
  check(now: number): void {
    const limits = this.host.limits;
    if (this.phase === Phase.Head) {
      if (now - this.since > limits.requestHeadTimeoutMs) this.refuse(requestHeadTimeout(limits.requestHeadTimeoutMs), 'head_timeout');
    } else if (this.phase === Phase.Idle) {
      if (now - this.since > limits.keepAliveTimeoutMs) this.socket.destroy();
    } else {
      const activity = this.socket.bytesRead + this.socket.bytesWritten;
      if (activity !== this.activity || this.activeAt < this.since) {
        this.activity = activity;
        this.activeAt = now;
      } else if (now - this.activeAt > limits.idleTimeoutMs) {
        this.host.rejected('idle_timeout');
        this.socket.destroy();
      }
    }
  }

  /** The listener drains: an idle connection closes now, a busy one after its response, an upgraded one when the listener's grace ends. */
  drain(): void {
    if (this.phase === Phase.Idle || this.phase === Phase.Head) this.socket.destroy();
  }

  // --- H1RequestSink (from the parser) --------------------------------------------------------

  onRequestHead(head: H1RequestHead): void {
    this.phase = Phase.Busy;
    const down = new H1Downstream(this, head, this.host.draining);
    this.current = down;
    if (head.expectContinue) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    this.host.serve(down, this.peer);
  }

  onRequestBody(chunk: Buffer): void {
    this.current?.pushBody(chunk);
  }

  onRequestComplete(): void {
    this.current?.endBody();
  }

  // --- H1ExchangeOwner (from the request's downstream) ---------------------------------------

  pauseReading(paused: boolean): void {
    this.pausedForBody = paused;
    if (paused) this.socket.pause();
    else if (this.stash === undefined) this.socket.resume();
  }

  responseDone(down: H1Downstream): void {
    if (down !== this.current) return;
    if (down.closeAfter || this.host.draining) {
      this.closing = true;
      this.socket.end();
      return;
    }
    if (!down.requestRead) return; // the rest of the body is read (and dropped) first
    this.nextRequest();
  }

  upgraded(down: H1Downstream): Buffer | undefined {
    if (down !== this.current) return undefined;
    this.phase = Phase.Upgraded;
    this.since = Date.now();
    // The exchange reports its own end once its relay is over, not this connection's close.
    this.current = undefined;
    this.closing = true;
    this.socket.off('data', this.onDataEvent);
    const early = this.stash;
    this.stash = undefined;
    return early;
  }

  // --- socket events ----------------------------------------------------------------------------

  private onData(data: Buffer): void {
    if (this.closing) return;
    if (this.phase === Phase.Idle) {
      this.phase = Phase.Head;
      this.since = Date.now();
    }
    if (this.stash !== undefined) {
      this.stash = Buffer.concat([this.stash, data]);
      this.socket.pause();
      return;
    }
    this.parse(data);
  }

  private parse(data: Buffer): void {
    const used = this.parser.execute(data, 0);
    if (used < 0) return this.refuse(this.parser.error!, this.parser.error!.status === 431 ? 'too_many_headers' : 'malformed_request');
    if (this.parser.done) {
      const down = this.current;
      if (used < data.length) {
        this.stash = data.subarray(used);
        this.socket.pause();
      }
      // A response written before the body was read (the proxy's own answer) is over now.
      if (down !== undefined && down.finished && !this.closing) this.nextRequest();
    }
  }

  /** The response and the request are both over: on to the next request, if the client sends one. */
  private nextRequest(): void {
    this.current = undefined;
    this.parser.next();
    this.phase = Phase.Idle;
    this.since = Date.now();
    const stash = this.stash;
    if (stash === undefined) {
      if (!this.pausedForBody) this.socket.resume();
      return;
    }
    this.stash = undefined;
    this.phase = Phase.Head;
    // Not from inside the exchange that just ended (its upstream connection is not back in the pool yet).
    process.nextTick(parseStash, this, stash);
  }

  /** A pipelined request waiting in the stash. */
  resumeWith(stash: Buffer): void {
    if (this.closing || this.socket.destroyed) return;
    this.socket.resume();
    this.parse(stash);
  }

  private onClose(): void {
    this.closing = true;
    this.current?.connectionClosed();
    this.current = undefined;
    this.host.closed(this);
  }

  /** Answers a head that never became a request (timed out, malformed, too large), then closes. */
  private refuse(error: ProxyError, reason: RejectReason): void {
    this.host.rejected(reason);
    this.closing = true;
    const socket = this.socket;
    // A response already under way on this connection cannot be followed by another one.
    if (!socket.writable || socket.destroyed || this.current?.headersSent === true) return void socket.destroy();
    socket.end(rawH1ErrorResponse(error), () => socket.destroy());
  }
}

function parseStash(conn: H1ServerConnection, stash: Buffer): void {
  conn.resumeWith(stash);
}

function ignore(): void {}
