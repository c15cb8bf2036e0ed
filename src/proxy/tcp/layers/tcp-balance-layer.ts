// Layer: the endpoint a connection is relayed to. An ORIGINAL_DST cluster (PassthroughCluster)
// sends a captured connection to its original destination, with mTLS when the cluster asks
// for it (refused when this proxy has no identity to dial with); any other cluster asks its
// balancer. No endpoint is refused with NO_HEALTHY_ENDPOINT. Produces the endpoint stage's target.
import type { TlsSource } from '../../identity/proxy-identity.js';
import { noHealthyEndpoint } from '../../errors.js';
import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { OriginalDestination } from '../original-destination.js';
import { refusedEnd, type ClusterTarget, type EndpointTarget, type TcpEnd, type TcpEndHandler, type TcpEndpoint, type TcpLayer, type TcpService } from '../tcp-layer.js';

export class TcpBalanceLayer implements TcpLayer<ClusterTarget, EndpointTarget> {
  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly tlsSource: TlsSource | undefined,
  ) {}

  onConnection(target: ClusterTarget, next: TcpService<EndpointTarget>, up: TcpEndHandler<ClusterTarget>): void {
    const { conn, cluster } = target;
    const endpoint = this.endpointOf(target);
    if (endpoint === undefined) return up.onEnd(target, refusedEnd(conn, noHealthyEndpoint(cluster.name)));
    next.serve({ conn, cluster, endpoint });
  }

  onEnd(target: EndpointTarget, end: TcpEnd, up: TcpEndHandler<ClusterTarget>): void {
    up.onEnd(target, end);
  }

  private endpointOf({ conn, cluster }: ClusterTarget): TcpEndpoint | undefined {
    const dst = conn.originalDst;
    if (!cluster.config.originalDst || dst === undefined) return cluster.balancer.pick();
    const tls = cluster.config.tls;
    if (tls === undefined) return new OriginalDestination(dst.address, dst.port, undefined);
    const source = this.tlsSource;
    if (source === undefined) return undefined;
    return new OriginalDestination(dst.address, dst.port, { source, sans: tls.sans, handshakes: this.metrics.tlsHandshakes('outbound', cluster.service) });
  }
}
