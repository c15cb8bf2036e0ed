// Terminal: connects to the endpoint and relays the connection (created with allowHalfOpen) as
// opaque bytes both ways with backpressure, half-close passed on (a FIN from one side ends the
// write side of the other), both sockets destroyed when either errors or is reset. The upstream
// is read into buffers of the relay's own (ReadIntoCopy): no memory per read on the way back,
// where bulk data usually flows; the downstream, accepted by a listener, is piped. Its end is
// reported once, when both sockets have closed. The socket listeners are the only
// per-connection functions: node's streams call back through them.
import type net from 'node:net';
import { ReadIntoCopy } from '../read-into-copy.js';
import { relayedEnd, type EndpointTarget, type TcpEndHandler, type TcpTerminal } from '../tcp-layer.js';

/** One relay in flight: the sockets, and what its end needs. */
class Relay {
  private failure: Error | undefined = undefined;
  /** Sockets still open; the end is reported when it reaches 0. */
  private open = 2;

  constructor(
    private readonly target: EndpointTarget,
    private readonly up: TcpEndHandler<EndpointTarget>,
    private readonly down: net.Socket,
    private readonly upstream: net.Socket,
    private readonly fromUpstream: ReadIntoCopy,
  ) {}

  start(connectTimeoutMs: number): void {
    const { down, upstream } = this;
    const key = this.target.endpoint.key;
    if (connectTimeoutMs > 0) {
      upstream.setTimeout(connectTimeoutMs, () => upstream.destroy(Object.assign(new Error(`connect to ${key} timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
      upstream.once('connect', () => upstream.setTimeout(0));
    }
    const onError = (e: Error) => this.fail(e);
    down.on('error', onError);
    upstream.on('error', onError);
    // A close without error while the other side still reads (e.g. a reset) must end both.
    down.once('close', () => this.closed(down, upstream));
    upstream.once('close', () => this.closed(upstream, down));
    down.resume();
    down.pipe(upstream);
    this.fromUpstream.start(upstream);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.down.destroy();
    this.upstream.destroy();
  }

  private closed(side: net.Socket, other: net.Socket): void {
    if (!other.destroyed && (side.readableEnded === false || other.writableEnded === false)) other.destroy();
    if (--this.open > 0) return;
    this.target.endpoint.active--;
    this.up.onEnd(this.target, relayedEnd(this.target.conn, this.failure));
  }
}

export const tcpRelay: TcpTerminal<EndpointTarget> = {
  onConnection(target: EndpointTarget, up: TcpEndHandler<EndpointTarget>): void {
    const { endpoint, cluster, conn } = target;
    endpoint.active++;
    const fromUpstream = new ReadIntoCopy(conn.socket);
    // Opaque bytes: no ALPN.
    const upstream = endpoint.dial(undefined, { allowHalfOpen: true, readInto: fromUpstream });
    new Relay(target, up, conn.socket, upstream, fromUpstream).start(cluster.connectTimeoutMs);
  },
};
