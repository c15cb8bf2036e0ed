// Layer: TCP metrics of relayed connections, by direction and destination service: a
// connection counted when it is relayed, its bytes each way (and its close) when it ends.
// Refused connections never reach this layer (authorization decisions and outbound refusals
// have their own counters).
import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import type { EndpointTarget, TcpEnd, TcpEndHandler, TcpLayer, TcpService } from '../tcp-layer.js';

export class TcpMetricsLayer implements TcpLayer<EndpointTarget, EndpointTarget> {
  constructor(private readonly metrics: ProxyMetrics) {}

  onConnection(target: EndpointTarget, next: TcpService<EndpointTarget>): void {
    this.metrics.tcpConnection(target.conn.scope.direction, target.cluster.service);
    next.serve(target);
  }

  onEnd(target: EndpointTarget, end: TcpEnd, up: TcpEndHandler<EndpointTarget>): void {
    this.metrics.tcpTraffic(target.conn.scope.direction, target.cluster.service, end.received, end.sent);
    up.onEnd(target, end);
  }
}
