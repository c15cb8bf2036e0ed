// Layer: authorization of a TCP connection, decided on the caller's identity (from mTLS) alone,
// by the listener's (or capture chain's) RBAC rules. Every decision is counted; a denial is
// logged (rate-limited per policy rule, telemetry/deny-log.ts) and refused with FORBIDDEN,
// which closes the connection at once. Connections without rules pass straight through.
import { authorize } from '../../config/authz-config.js';
import { forbidden } from '../../errors.js';
import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { logDenial } from '../../telemetry/deny-log.js';
import { refusedEnd, type TcpConnection, type TcpEnd, type TcpEndHandler, type TcpLayer, type TcpService } from '../tcp-layer.js';

export class TcpAuthzLayer implements TcpLayer<TcpConnection, TcpConnection> {
  constructor(private readonly metrics: ProxyMetrics) {}

  onConnection(conn: TcpConnection, next: TcpService<TcpConnection>, up: TcpEndHandler<TcpConnection>): void {
    const { authz, direction, listener, denyLogName } = conn.scope;
    if (authz === undefined) return next.serve(conn);
    const d = authorize(authz, { peer: conn.peer });
    this.metrics.authzDecision(direction, listener, d.allowed, d.policy);
    if (d.allowed) return next.serve(conn);
    logDenial({ peer: conn.peer, sourceAddress: conn.socket.remoteAddress, listener: denyLogName, policy: d.policy, reason: d.reason });
    up.onEnd(conn, refusedEnd(conn, forbidden(d.reason)));
  }

  onEnd(conn: TcpConnection, end: TcpEnd, up: TcpEndHandler<TcpConnection>): void {
    up.onEnd(conn, end);
  }
}
