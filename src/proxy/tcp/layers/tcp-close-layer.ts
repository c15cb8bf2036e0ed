// Layer: how a refused connection is closed, the one place that turns a refusal into what the
// downstream sees. An outbound connection refused by the mesh's outbound policy gets the
// proxy's HTTP/1.1 error answer when the sniffer saw HTTP/1.1, else a reset; every other
// refusal (authorization, no backend, no endpoint) closes the connection at once. Relayed
// connections are already closed by the relay and pass straight through.
import type { Logger } from '../../../common/log.js';
import type { ProxyError } from '../../errors.js';
import { rawH1ErrorResponse } from '../../http/error-response.js';
import type { TcpConnection, TcpEnd, TcpEndHandler, TcpLayer, TcpService } from '../tcp-layer.js';

/** Closes `conn`'s downstream as `error` says. */
export function closeRefused(conn: TcpConnection, error: ProxyError): void {
  if (error.code !== 'OUTBOUND_REFUSED') conn.socket.destroy();
  else if (conn.detected === 'http/1.1') conn.socket.end(rawH1ErrorResponse(error));
  else conn.socket.resetAndDestroy();
}

export class TcpCloseLayer implements TcpLayer<TcpConnection, TcpConnection> {
  constructor(private readonly logger: Logger | undefined) {}

  onConnection(conn: TcpConnection, next: TcpService<TcpConnection>): void {
    next.serve(conn);
  }

  onEnd(conn: TcpConnection, end: TcpEnd, up: TcpEndHandler<TcpConnection>): void {
    const refused = end.refused;
    if (refused !== undefined) {
      this.logger?.debug({ listener: conn.scope.listener, code: refused.code, reason: refused.message }, 'TCP connection refused; closing it');
      closeRefused(conn, refused);
    }
    up.onEnd(conn, end);
  }
}
