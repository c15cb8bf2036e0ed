// Layer: weighted cluster pick among the listener's (or capture chain's) clusters; all weights
// zero is refused with NO_BACKEND. Produces the cluster stage's target.
import { noBackend } from '../../errors.js';
import { refusedEnd, type ClusterTarget, type TcpConnection, type TcpEnd, type TcpEndHandler, type TcpLayer, type TcpService } from '../tcp-layer.js';

export const tcpClusterPickLayer: TcpLayer<TcpConnection, ClusterTarget> = {
  onConnection(conn: TcpConnection, next: TcpService<ClusterTarget>, up: TcpEndHandler<TcpConnection>): void {
    const cluster = conn.scope.backends.pick();
    if (cluster === undefined) return up.onEnd(conn, refusedEnd(conn, noBackend(conn.scope.denyLogName)));
    next.serve({ conn, cluster });
  },

  onEnd(target: ClusterTarget, end: TcpEnd, up: TcpEndHandler<TcpConnection>): void {
    up.onEnd(target.conn, end);
  },
};
