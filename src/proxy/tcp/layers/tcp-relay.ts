// Terminal: connects to the endpoint and relays the connection (created with allowHalfOpen) as
// opaque bytes both ways (SocketRelay: backpressure, half-close passed on, both sockets
// destroyed when either errors or is reset). The upstream is read into buffers of the relay's
// own (ReadIntoCopy): no memory per read on the way back, where bulk data usually flows; the
// downstream, accepted by a listener, is piped. Its end is reported once, when both sockets
// have closed. The socket listeners are the only per-connection functions: node's streams
// call back through them.
import { ReadIntoCopy } from '../read-into-copy.js';
import { SocketRelay, type RelayOwner } from '../socket-relay.js';
import { relayedEnd, type EndpointTarget, type TcpEndHandler, type TcpTerminal } from '../tcp-layer.js';

/** What a relay's end needs: the target, and whom to tell. */
class RelayEnd implements RelayOwner {
  constructor(
    private readonly target: EndpointTarget,
    private readonly up: TcpEndHandler<EndpointTarget>,
  ) {}

  relayEnded(error: Error | undefined): void {
    this.target.endpoint.active--;
    this.up.onEnd(this.target, relayedEnd(this.target.conn, error));
  }
}

export const tcpRelay: TcpTerminal<EndpointTarget> = {
  onConnection(target: EndpointTarget, up: TcpEndHandler<EndpointTarget>): void {
    const { endpoint, cluster, conn } = target;
    endpoint.active++;
    const fromUpstream = new ReadIntoCopy(conn.socket);
    // Opaque bytes: no ALPN.
    const upstream = endpoint.dial(undefined, { allowHalfOpen: true, readInto: fromUpstream });
    const connectTimeoutMs = cluster.connectTimeoutMs;
    if (connectTimeoutMs > 0) {
      upstream.setTimeout(connectTimeoutMs, () =>
        upstream.destroy(Object.assign(new Error(`connect to ${endpoint.key} timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      upstream.once('connect', () => upstream.setTimeout(0));
    }
    new SocketRelay(conn.socket, upstream, new RelayEnd(target, up)).start(fromUpstream);
  },
};
