// The layers an opaque TCP connection passes through (a TCP listener's, or a capture listener's
// TCP chain's), outermost first. The order is the contract; add a concern by adding a line.
// Ends come back up in the opposite order, to the connection's listener.
import type { Logger } from '../../common/log.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { TcpAuthzLayer } from './layers/tcp-authz-layer.js';
import { TcpBalanceLayer } from './layers/tcp-balance-layer.js';
import { TcpBlackholeLayer } from './layers/tcp-blackhole-layer.js';
import { TcpCloseLayer } from './layers/tcp-close-layer.js';
import { tcpClusterPickLayer } from './layers/tcp-cluster-pick-layer.js';
import { TcpMetricsLayer } from './layers/tcp-metrics-layer.js';
import { tcpRelay } from './layers/tcp-relay.js';
import { TcpStackBuilder } from './tcp-compose.js';
import type { TcpConnection, TcpEnd, TcpEndHandler, TcpService } from './tcp-layer.js';

export interface TcpStackDeps {
  readonly metrics: ProxyMetrics;
  readonly logger?: Logger | undefined;
  /** This proxy's identity, for original destinations dialled with mTLS. */
  readonly tlsSource?: TlsSource | undefined;
}

/** The top of every TCP stack: the listener that owns the connection hears its end. */
const toOwner: TcpEndHandler<TcpConnection> = {
  onEnd(conn: TcpConnection, end: TcpEnd): void {
    conn.owner.connectionEnded(conn, end);
  },
};

export function buildTcpStack(deps: TcpStackDeps): TcpService<TcpConnection> {
  return TcpStackBuilder.from(toOwner)
    .push(new TcpCloseLayer(deps.logger)) //                     closes refused connections (FORBIDDEN, NO_BACKEND, ... at once; OUTBOUND_REFUSED with an answer or a reset)
    .push(new TcpAuthzLayer(deps.metrics)) //                    RBAC on the caller's identity (denied: logged, closed)
    .push(tcpClusterPickLayer) //                                weighted split among the clusters → ClusterTarget
    .push(new TcpBlackholeLayer(deps.metrics, deps.logger)) //   BlackHoleCluster: outbound policy Refuse (counted, logged)
    .push(new TcpBalanceLayer(deps.metrics, deps.tlsSource)) //  endpoint: balancer pick, or original destination → EndpointTarget
    .push(new TcpMetricsLayer(deps.metrics)) //                  connections and bytes by service
    .end(tcpRelay); //                                           connect, relay bytes both ways
}
