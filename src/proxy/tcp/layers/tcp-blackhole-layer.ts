// Layer: the mesh's outbound policy Refuse. A connection whose cluster is BlackHoleCluster (a
// destination outside the mesh) is counted by its detected protocol, logged at warn, and
// refused with OUTBOUND_REFUSED (an HTTP/1.1 client gets the proxy's answer, others a reset).
import type { Logger } from '../../../common/log.js';
import { BLACKHOLE_CLUSTER } from '../../../xds/names.js';
import { outboundRefused } from '../../errors.js';
import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { refusedEnd, type ClusterTarget, type TcpConnection, type TcpEnd, type TcpEndHandler, type TcpLayer, type TcpService } from '../tcp-layer.js';

/** `address:port` the client asked for: its original destination, else the listener's own address. */
function destination(conn: TcpConnection): string {
  const dst = conn.originalDst;
  return dst === undefined ? `${conn.socket.localAddress}:${conn.socket.localPort}` : `${dst.address}:${dst.port}`;
}

export class TcpBlackholeLayer implements TcpLayer<ClusterTarget, ClusterTarget> {
  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly logger: Logger | undefined,
  ) {}

  onConnection(target: ClusterTarget, next: TcpService<ClusterTarget>, up: TcpEndHandler<ClusterTarget>): void {
    if (target.cluster.name !== BLACKHOLE_CLUSTER) return next.serve(target);
    const { conn } = target;
    const error = outboundRefused(destination(conn));
    this.metrics.outboundRefused(conn.detected ?? 'opaque');
    this.logger?.warn({ listener: conn.scope.listener, destination: destination(conn), protocol: conn.detected }, error.message);
    up.onEnd(target, refusedEnd(conn, error));
  }

  onEnd(target: ClusterTarget, end: TcpEnd, up: TcpEndHandler<ClusterTarget>): void {
    up.onEnd(target, end);
  }
}
