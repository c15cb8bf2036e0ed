// A TCP listener: accepts connections (terminating mTLS when the listener asks for it) and
// hands each to the TCP stack (tcp/tcp-stack.ts: authorization, cluster and endpoint pick,
// metrics, relay as opaque bytes), tracking it until the stack reports its end.
import net from 'node:net';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { TcpListenerScope } from '../data-plane-snapshot.js';
import type { ProxyError } from '../errors.js';
import { TcpConnection, type TcpChainScope, type TcpConnectionOwner } from '../tcp/tcp-layer.js';
import { bind, listenerKey, type Listener } from './listener.js';
import { MeshTlsAcceptor } from './mesh-tls-accept.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import type { TlsHandshakeCounts } from '../metrics/tls-handshakes.js';
import { drainSockets } from './drain-sockets.js';
import { UNCOUNTED_GUARD, type DownstreamGuard } from './downstream-limits.js';

/** What the TCP stack serves this listener's connections with. */
function chainScope({ listener, backends }: TcpListenerScope): TcpChainScope {
  return { direction: listener.direction, listener: listener.name, denyLogName: listener.name, authz: listener.authz, backends };
}

export class TcpListener implements Listener, TcpConnectionOwner {
  readonly key: string;
  private readonly sockets = new Set<net.Socket>();
  private onSocketGone: () => void = () => {};
  private chain: TcpChainScope;

  private constructor(
    private scope: TcpListenerScope,
    private readonly server: net.Server,
    readonly bound: net.AddressInfo,
  ) {
    this.key = listenerKey('tcp', scope.listener.address, scope.listener.port);
    this.chain = chainScope(scope);
  }

  /** `guard` caps the connections and bounds the mTLS handshake. */
  static async open(
    scope: TcpListenerScope,
    logger?: Logger,
    tlsSource?: TlsSource,
    handshakes?: TlsHandshakeCounts,
    guard: DownstreamGuard = UNCOUNTED_GUARD,
  ): Promise<Result<TcpListener, ProxyError>> {
    // allowHalfOpen: a client's FIN must reach the upstream while the reply still flows back.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.maxConnections = guard.limits.maxConnectionsPerListener;
    server.on('drop', () => guard.rejected('connection_limit'));
    const bound = await bind(server, scope.listener.name, scope.listener.address, scope.listener.port);
    if (!bound.ok) return err(bound.error);
    const listener = new TcpListener(scope, server, bound.value);
    const acceptor = new MeshTlsAcceptor(tlsSource, guard.limits.handshakeTimeoutMs, logger, (accepted, peer) => listener.onConnection(accepted, peer), handshakes);
    server.on('connection', (socket: net.Socket) => {
      const tls = listener.scope.listener.tls;
      if (tls === undefined) return listener.onConnection(socket);
      // Tracked while the handshake runs, so close() still ends it.
      listener.sockets.add(socket);
      socket.once('close', () => {
        listener.sockets.delete(socket);
        listener.onSocketGone();
      });
      acceptor.accept(socket, tls);
    });
    server.on('error', (e) => logger?.warn({ listener: scope.listener.name, err: e }, 'listener error'));
    return ok(listener);
  }

  update(scope: TcpListenerScope): void {
    this.scope = scope;
    this.chain = chainScope(scope);
  }

  close(graceMs: number): Promise<void> {
    this.server.close();
    const drain = drainSockets(this.sockets, graceMs);
    this.onSocketGone = drain.onSocketGone;
    this.onSocketGone();
    return drain.done;
  }

  private onConnection(socket: net.Socket, peer?: string): void {
    this.sockets.add(socket);
    this.scope.stack.serve(new TcpConnection(socket, this.chain, this, peer, undefined, undefined));
  }

  connectionEnded(conn: TcpConnection): void {
    this.sockets.delete(conn.socket);
    this.onSocketGone();
  }
}
