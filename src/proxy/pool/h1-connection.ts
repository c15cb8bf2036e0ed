// One HTTP/1.1 connection to an upstream endpoint: writes a request head as one string, feeds
// the response bytes to its parser, and goes back to its pool when the exchange is complete
// and the connection can carry another request (keep-alive). A connection whose request asked
// for an upgrade never goes back: on 101 its socket leaves the pool for the exchange to relay,
// on any other answer it closes.
import net from 'node:net';
import { upstreamConnectFailed, upstreamConnectTimeout, upstreamProtocolError, upstreamReset, type ProxyError } from '../errors.js';
import { latin1 } from '../http/h1-syntax.js';
import { H1ResponseParser, ParseStatus, type H1ResponseSink, type H1UpgradeResponse } from './h1-response-parser.js';

/** The exchange using a connection: the response sink plus failure notice. */
export interface H1Exchange extends H1ResponseSink {
  /**
   * The exchange failed. `retryable` is true when the request was surely not processed: a
   * reused connection failed before any response byte (the keep-alive race with a server
   * closing an idle connection).
   */
  onExchangeError(error: ProxyError, retryable: boolean): void;
  /** The response is incomplete and every byte that arrived so far went to the sink: the rest may take a while. */
  onResponseWaiting(): void;
  /** 101 to an upgrade request: `socket` has left the pool and is the exchange's (the bytes after the head are in `response.rest`). */
  onUpgrade(response: H1UpgradeResponse, socket: net.Socket): void;
}

/** Where a connection returns to when idle, and how it leaves for good. */
export interface H1ConnectionOwner {
  readonly label: string;
  /** The connection is up (its dial is over). */
  connected(conn: H1Connection): void;
  release(conn: H1Connection): void;
  remove(conn: H1Connection): void;
}

/** Opens an mTLS connection instead of plain TCP (the endpoint, when its cluster asks for mTLS). */
export interface Dialer {
  dial(alpn: string): net.Socket;
}

/** A connection that is idle, or carrying exactly one exchange. */
export class H1Connection {
  readonly socket: net.Socket;
  private readonly parser = new H1ResponseParser();
  private exchange: H1Exchange | null = null;
  private connected = false;
  private requestEnded = false;
  /** The current request asked for an upgrade: the connection is not reused whatever the answer. */
  private upgradeAsked = false;
  /** Exchanges started on this connection (more than one means it was reused). */
  uses = 0;
  /** When it last went idle (ms since epoch), for the pool's idle sweep. */
  idleSince = 0;
  destroyed = false;

  constructor(
    private readonly owner: H1ConnectionOwner,
    host: string,
    port: number,
    private readonly connectTimeoutMs: number,
    dialer?: Dialer,
  ) {
    const socket = dialer ? dialer.dial('http/1.1') : net.connect({ host, port, noDelay: true });
    this.socket = socket;
    if (connectTimeoutMs > 0) socket.setTimeout(connectTimeoutMs);
    // Over mTLS the connection is usable (and the peer verified) once the handshake is done.
    socket.on(dialer ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      if (connectTimeoutMs > 0) socket.setTimeout(0);
      owner.connected(this);
    });
    socket.on('timeout', this.onTimeoutEvent);
    socket.on('data', this.onDataEvent);
    socket.on('end', this.onEndEvent);
    socket.on('error', this.onErrorEvent);
    socket.on('close', this.onCloseEvent);
  }

  // The socket's listeners, kept to be taken off when an upgrade hands the socket over.
  private readonly onTimeoutEvent = (): void => this.fail(upstreamConnectTimeout(this.owner.label, this.connectTimeoutMs), false);
  private readonly onDataEvent = (data: Buffer): void => this.onData(data);
  private readonly onEndEvent = (): void => this.onEnd();
  private readonly onErrorEvent = (err: Error): void => this.onSocketError(err);
  private readonly onCloseEvent = (): void => this.onSocketError(undefined);

  /**
   * Starts an exchange: `head` is the complete request head; the body (if any) follows with
   * write()/end(). `upgrade`: the request asked for an upgrade (101 hands the socket over).
   */
  dispatch(exchange: H1Exchange, head: string, bodyless: boolean, requestEnded: boolean, upgrade = false): void {
    this.exchange = exchange;
    this.requestEnded = requestEnded;
    this.upgradeAsked = upgrade;
    this.uses++;
    this.parser.start(exchange, bodyless, upgrade);
    this.socket.write(latin1(head));
  }

  /** Writes request body bytes; false means wait for the socket's 'drain'. */
  write(chunk: Buffer | string): boolean {
    return this.socket.write(chunk);
  }

  /** The request (head and body) is completely written. */
  endRequest(last?: string): void {
    if (last !== undefined) this.socket.write(latin1(last));
    this.requestEnded = true;
  }

  /** Abandons the exchange (the downstream went away): the connection cannot be reused. */
  cancel(exchange: H1Exchange): void {
    if (this.exchange !== exchange) return;
    this.exchange = null;
    this.destroy();
  }

  /**
   * Gives up a connection still dialling (its endpoint left the cluster): the request on it never
   * went out, so its exchange fails as retryable with `error` (the forwarder sends it elsewhere).
   */
  abandonDial(error: ProxyError): void {
    if (this.connected || this.destroyed) return;
    this.fail(error, true);
  }

  /** Closes the connection and takes it out of its pool. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.parser.abandon();
    this.socket.destroy();
    this.owner.remove(this);
  }

  private onData(data: Buffer): void {
    if (this.exchange === null) {
      this.destroy(); // bytes nobody asked for: the connection is out of step
      return;
    }
    let status: ParseStatus;
    try {
      status = this.parser.execute(data);
    } catch (e) {
      // The sink could not relay what was parsed (node:http refuses a header name or value).
      this.fail(upstreamProtocolError(this.owner.label, `response could not be relayed: ${e instanceof Error ? e.message : String(e)}`), false);
      return;
    }
    if (status === ParseStatus.Complete) this.finish();
    else if (status === ParseStatus.Invalid) this.fail(upstreamProtocolError(this.owner.label, this.parser.error), false);
    else if (status === ParseStatus.Upgraded) this.handOver(this.parser.upgraded!);
    else this.exchange?.onResponseWaiting();
  }

  /** 101: the socket leaves the pool (no longer counted there) and goes to the exchange with its listeners taken off. */
  private handOver(response: H1UpgradeResponse): void {
    const exchange = this.exchange!;
    this.exchange = null;
    this.destroyed = true;
    const socket = this.socket;
    socket.off('timeout', this.onTimeoutEvent).off('data', this.onDataEvent).off('end', this.onEndEvent).off('error', this.onErrorEvent).off('close', this.onCloseEvent);
    this.owner.remove(this);
    exchange.onUpgrade(response, socket);
  }

  private onEnd(): void {
    if (this.exchange === null) {
      this.destroy();
      return;
    }
    const status = this.parser.finishAtEof();
    if (status === ParseStatus.Complete) this.finish();
    else this.fail(upstreamReset(this.owner.label, this.parser.error), this.uses > 1 && !this.parser.received);
  }

  private onSocketError(err: Error | undefined): void {
    if (this.exchange === null) {
      this.destroy();
      return;
    }
    if (!this.connected) this.fail(upstreamConnectFailed(this.owner.label, err ?? 'connection closed'), false);
    else this.fail(upstreamReset(this.owner.label, err), this.uses > 1 && !this.parser.received);
  }

  /** The parser completed the response (the sink already wrote it downstream). */
  private finish(): void {
    this.exchange = null;
    if (this.parser.keepAlive && this.requestEnded && !this.destroyed && !this.upgradeAsked) {
      this.idleSince = Date.now();
      this.owner.release(this);
    } else {
      this.destroy();
    }
  }

  private fail(error: ProxyError, retryable: boolean): void {
    const exchange = this.exchange;
    this.exchange = null;
    this.destroy();
    if (exchange !== null) exchange.onExchangeError(error, retryable);
  }
}
