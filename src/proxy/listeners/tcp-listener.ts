// A TCP listener: each connection goes to an endpoint chosen by the listener's weighted
// clusters and the cluster's balancer, and is relayed as opaque bytes (counted in metrics).
import net from 'node:net';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { TcpListenerScope } from '../data-plane-snapshot.js';
import type { ProxyError } from '../errors.js';
import type { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { relayTcp } from '../tcp/tcp-proxy.js';
import { bind, listenerKey, type Listener } from './listener.js';
import { MeshTlsAcceptor } from './mesh-tls-accept.js';
import { authorize } from '../config/authz-config.js';
import { logDenial } from '../telemetry/deny-log.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import type { TlsHandshakeCounts } from '../metrics/tls-handshakes.js';
import { drainSockets } from './drain-sockets.js';
import { UNCOUNTED_GUARD, type DownstreamGuard } from './downstream-limits.js';

export class TcpListener implements Listener {
  readonly key: string;
  private readonly sockets = new Set<net.Socket>();
  private onSocketGone: () => void = () => {};

  private constructor(
    private scope: TcpListenerScope,
    private readonly server: net.Server,
    readonly bound: net.AddressInfo,
    private readonly metrics: ProxyMetrics,
    private readonly logger: Logger | undefined,
  ) {
    this.key = listenerKey('tcp', scope.listener.address, scope.listener.port);
  }

  /** `guard` caps the connections and bounds the mTLS handshake. */
  static async open(scope: TcpListenerScope, metrics: ProxyMetrics, logger?: Logger, tlsSource?: TlsSource, handshakes?: TlsHandshakeCounts, guard: DownstreamGuard = UNCOUNTED_GUARD): Promise<Result<TcpListener, ProxyError>> {
    // allowHalfOpen: a client's FIN must reach the upstream while the reply still flows back.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.maxConnections = guard.limits.maxConnectionsPerListener;
    server.on('drop', () => guard.rejected('connection_limit'));
    const bound = await bind(server, scope.listener.name, scope.listener.address, scope.listener.port);
    if (!bound.ok) return err(bound.error);
    const listener = new TcpListener(scope, server, bound.value, metrics, logger);
    const acceptor = new MeshTlsAcceptor(tlsSource, guard.limits.handshakeTimeoutMs, logger, (accepted, peer) => listener.onConnection(accepted, peer), handshakes);
    server.on('connection', (socket: net.Socket) => {
      const tls = listener.scope.listener.tls;
      if (tls === undefined) return listener.onConnection(socket);
      // Tracked while the handshake runs, so close() still ends it.
      listener.sockets.add(socket);
      socket.once('close', () => { listener.sockets.delete(socket); listener.onSocketGone(); });
      acceptor.accept(socket, tls);
    });
    server.on('error', (e) => logger?.warn({ listener: scope.listener.name, err: e }, 'listener error'));
    return ok(listener);
  }

  update(scope: TcpListenerScope): void {
    this.scope = scope;
  }

  close(graceMs: number): Promise<void> {
    this.server.close();
    const drain = drainSockets(this.sockets, graceMs);
    this.onSocketGone = drain.onSocketGone;
    this.onSocketGone();
    return drain.done;
  }

  private onConnection(socket: net.Socket, peer?: string): void {
    const { listener, backends } = this.scope;
    if (listener.authz !== undefined) {
      // TCP: decided on the caller's identity alone; a denied connection is closed at once.
      const d = authorize(listener.authz, { peer });
      this.metrics.authzDecision(listener.direction, listener.name, d.allowed, d.policy);
      if (!d.allowed) {
        logDenial({ peer, sourceAddress: socket.remoteAddress, listener: listener.name, policy: d.policy, reason: d.reason });
        socket.destroy();
        return;
      }
    }
    const cluster = backends.pick();
    const endpoint = cluster?.balancer.pick();
    if (cluster === undefined || endpoint === undefined) {
      this.logger?.debug({ listener: listener.name, cluster: cluster?.name }, 'no endpoint for TCP connection; closing it');
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const { direction } = listener;
    const service = cluster.service;
    this.metrics.tcpConnection(direction, service);
    relayTcp(socket, endpoint, cluster.connectTimeoutMs, (result) => {
      this.sockets.delete(socket);
      this.metrics.tcpTraffic(direction, service, result.received, result.sent);
      this.onSocketGone();
    });
  }
}
