// Transparent mode: the listener iptables redirects connections to. Each connection's
// original destination (SO_ORIGINAL_DST) and, where the chains differ by protocol, its first
// bytes pick a filter chain: HTTP chains hand the connection to a detached HTTP listener for
// the chain's route table (the usual layer stack, pools and forwarders), TCP chains hand it to
// the TCP stack (tcp/tcp-stack.ts), which relays it to an endpoint of the chain's cluster, to
// its original destination (PassthroughCluster), or refuses it (BlackHoleCluster). A chain
// with a transport socket terminates mTLS first (the inbound chains of a meshed workload, and
// under STRICT its ports no Service declares), and its authorization sees the caller's
// identity; an ORIGINAL_DST cluster with TLS dials the original destination with mTLS (a
// STRICT workload's undeclared port). It listens on `::` for IPv6 and
// IPv4 alike, since ip6tables redirects IPv6 connections here as iptables does IPv4 ones.
import net from 'node:net';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import { BLACKHOLE_CLUSTER } from '../../xds/names.js';
import { originalDst } from '../capture/original-dst.js';
import type { CaptureChain, CaptureListenerConfig, DetectedProtocol, HttpListenerConfig } from '../config/runtime-config.js';
import type { ClusterState, HttpListenerScope } from '../data-plane-snapshot.js';
import type { WeightedChoice } from '../balancer/index.js';
import type { ProxyError } from '../errors.js';
import { TcpConnection, type Destination, type TcpChainScope, type TcpConnectionOwner, type TcpService } from '../tcp/tcp-layer.js';
import { ChainSelector } from './chain-selector.js';
import { HttpListener } from './http-listener.js';
import { bind, listenerKey, type Listener } from './listener.js';
import { detectProtocol } from './protocol-sniffer.js';
import { drainSockets } from './drain-sockets.js';
import { MeshTlsAcceptor } from './mesh-tls-accept.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import type { TlsHandshakeCounts } from '../metrics/tls-handshakes.js';
import { UNCOUNTED_GUARD, type DownstreamGuard } from './downstream-limits.js';

/** Chains whose HTTP listener settings are the same share one detached HTTP listener. */
function httpKey(chain: CaptureChain & { action: { kind: 'http' } }): string {
  return JSON.stringify([
    chain.action.routeTable,
    chain.tls?.mode ?? null,
    chain.authz ?? null,
    chain.action.telemetry ?? null,
    chain.action.pathNormalization ?? null,
    chain.action.jwt?.source ?? null,
  ]);
}

/**
 * Binds a capture listener: `::` with ipv4Compat takes both families (ip6tables and iptables
 * redirect to the same port); on a kernel without IPv6 there is nothing to take over IPv6, so
 * it binds 0.0.0.0 instead.
 */
async function bindCapture(server: net.Server, listener: CaptureListenerConfig): Promise<Result<net.AddressInfo, ProxyError>> {
  const { name, address, port, ipv4Compat = false } = listener;
  const bound = await bind(server, name, address, port, net.isIPv6(address) && !ipv4Compat);
  const noIpv6 = !bound.ok && ipv4Compat && address === '::' && /EAFNOSUPPORT/.test(String(bound.error.message));
  return noIpv6 ? bind(server, name, '0.0.0.0', port) : bound;
}

/** What a capture listener serves with until the next config. */
export interface CaptureListenerScope {
  readonly listener: CaptureListenerConfig;
  /** The scope of an HTTP chain's route table, for a listener config standing for that chain. */
  readonly httpScope: (listener: HttpListenerConfig) => HttpListenerScope;
  /** The backends of each TCP chain, by chain name. */
  readonly tcpBackends: ReadonlyMap<string, WeightedChoice<ClusterState>>;
  readonly tcpStack: TcpService<TcpConnection>;
}

/** What the TCP stack serves each TCP chain's connections with, by chain name. */
function tcpChains({ listener, tcpBackends }: CaptureListenerScope): Map<string, TcpChainScope> {
  const chains = new Map<string, TcpChainScope>();
  for (const c of [...listener.chains, ...(listener.defaultChain ? [listener.defaultChain] : [])]) {
    const backends = tcpBackends.get(c.name);
    if (c.action.kind !== 'tcp' || backends === undefined) continue;
    chains.set(c.name, { direction: listener.direction, listener: listener.name, denyLogName: `${listener.name}|${c.name}`, authz: c.authz, backends });
  }
  return chains;
}

export class CaptureListener implements Listener, TcpConnectionOwner {
  readonly key: string;
  private readonly sockets = new Set<net.Socket>();
  /** Detached HTTP listeners by httpKey; kept across configs so their connections live on. */
  private readonly http = new Map<string, HttpListener>();
  /** Each HTTP chain of the current config's listener (computed at each config, not per connection). */
  private httpByChain = new Map<CaptureChain, HttpListener>();
  /** The TCP chain and destination of each connection in an mTLS handshake, by its remote address (the TLS socket answers the same). */
  private readonly handshaking = new Map<string, { chain: CaptureChain; dst: Destination }>();
  /** Each TCP chain of the current config's listener, by name (computed at each config, not per connection). */
  private tcpByChain: Map<string, TcpChainScope>;
  private readonly acceptor: MeshTlsAcceptor;
  private selector: ChainSelector;
  private onSocketGone: () => void = () => {};

  private constructor(
    private scope: CaptureListenerScope,
    private readonly server: net.Server,
    readonly bound: net.AddressInfo,
    private readonly logger: Logger | undefined,
    private readonly tlsSource: TlsSource | undefined,
    private readonly handshakes: TlsHandshakeCounts | undefined,
    private readonly guard: DownstreamGuard,
  ) {
    this.key = listenerKey('capture', scope.listener.address, scope.listener.port);
    this.acceptor = new MeshTlsAcceptor(tlsSource, guard.limits.handshakeTimeoutMs, logger, (tlsSocket, peer) => this.onMtls(tlsSocket, peer), handshakes);
    this.selector = new ChainSelector(scope.listener);
    this.tcpByChain = tcpChains(scope);
    this.syncHttp();
  }

  /**
   * mTLS chains terminate with `tlsSource`'s certificate and count handshakes into `handshakes`;
   * `guard`'s connection cap covers every connection, whatever chain serves it.
   */
  static async open(
    scope: CaptureListenerScope,
    logger?: Logger,
    tlsSource?: TlsSource,
    handshakes?: TlsHandshakeCounts,
    guard: DownstreamGuard = UNCOUNTED_GUARD,
  ): Promise<Result<CaptureListener, ProxyError>> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true });
    server.maxConnections = guard.limits.maxConnectionsPerListener;
    server.on('drop', () => guard.rejected('connection_limit'));
    const bound = await bindCapture(server, scope.listener);
    if (!bound.ok) return err(bound.error);
    const listener = new CaptureListener(scope, server, bound.value, logger, tlsSource, handshakes, guard);
    server.on('connection', (socket: net.Socket) => listener.onConnection(socket));
    server.on('error', (e) => logger?.warn({ listener: scope.listener.name, err: e }, 'listener error'));
    return ok(listener);
  }

  update(scope: CaptureListenerScope): void {
    this.scope = scope;
    this.selector = new ChainSelector(scope.listener);
    this.tcpByChain = tcpChains(scope);
    this.syncHttp();
  }

  close(graceMs: number): Promise<void> {
    this.server.close();
    const http = [...this.http.values()].map((h) => h.close(graceMs));
    this.http.clear();
    this.httpByChain.clear();
    const drain = drainSockets(this.sockets, graceMs);
    this.onSocketGone = drain.onSocketGone;
    this.onSocketGone();
    return Promise.all([drain.done, ...http]).then(() => undefined);
  }

  /** One detached HTTP listener per distinct HTTP chain setting (route table, mTLS, authorization, telemetry, path normalization); gone ones drain. */
  private syncHttp(): void {
    const { listener, httpScope } = this.scope;
    const wanted = new Map<string, HttpListenerConfig>();
    const keys = new Map<CaptureChain, string>();
    for (const c of [...listener.chains, ...(listener.defaultChain ? [listener.defaultChain] : [])]) {
      if (c.action.kind !== 'http') continue;
      const key = httpKey(c as CaptureChain & { action: { kind: 'http' } });
      keys.set(c, key);
      if (wanted.has(key)) continue;
      const { routeTable, telemetry, pathNormalization, jwt } = c.action;
      wanted.set(key, {
        name: `${listener.name}|${routeTable}`,
        direction: listener.direction,
        address: listener.address,
        port: listener.port,
        protocol: 'http',
        routeTable,
        httpProxy: false,
        ...(c.tls ? { tls: c.tls } : {}),
        ...(c.authz ? { authz: c.authz } : {}),
        ...(telemetry ? { telemetry } : {}),
        ...(pathNormalization ? { pathNormalization } : {}),
        ...(jwt ? { jwt } : {}),
      });
    }
    for (const [key, h] of this.http) {
      if (wanted.has(key)) continue;
      this.http.delete(key);
      void h.close(5000);
    }
    for (const [key, config] of wanted) {
      const existing = this.http.get(key);
      if (existing) existing.update(httpScope(config));
      else this.http.set(key, HttpListener.detached(httpScope(config), this.bound, this.logger, this.tlsSource, this.handshakes, this.guard));
    }
    this.httpByChain = new Map([...keys].map(([chain, key]) => [chain, this.http.get(key)!]));
  }

  private onConnection(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    const dst = originalDst(socket);
    if (!dst.ok) {
      // Not redirected (made straight to this port): forwarding it would loop back here.
      this.logger?.debug({ listener: this.scope.listener.name, reason: dst.reason }, 'connection without an original destination; closing it');
      socket.destroy();
      return;
    }
    const candidates = this.selector.candidates(dst.address, dst.port);
    const target = { address: dst.address, port: dst.port };
    const refuses = (c: CaptureChain | undefined) => c?.action.kind === 'tcp' && c.action.clusters.some((x) => x.cluster === BLACKHOLE_CLUSTER);
    // Refused connections are detected too, so an HTTP client gets an answer that says why.
    if (ChainSelector.needsDetection(candidates) || (candidates.length === 0 && refuses(this.selector.defaultChain))) {
      const timeoutMs = this.scope.listener.detectionTimeoutMs;
      detectProtocol(socket, timeoutMs, (protocol, alpn) => this.dispatch(socket, this.selector.pick(candidates, protocol, alpn), target, protocol));
    } else {
      this.dispatch(socket, this.selector.pick(candidates), target, undefined);
    }
  }

  private dispatch(socket: net.Socket, chain: CaptureChain | undefined, dst: Destination, detected: DetectedProtocol | undefined): void {
    const { listener } = this.scope;
    if (chain === undefined) {
      this.logger?.debug({ listener: listener.name, destination: `${dst.address}:${dst.port}` }, 'no filter chain for captured connection; closing it');
      socket.destroy();
      return;
    }
    if (chain.action.kind === 'http') {
      const h = this.httpByChain.get(chain);
      if (!h) return void socket.destroy();
      h.accept(socket);
      return;
    }
    if (chain.tls) {
      // Tracked while the handshake runs, so close() still ends it.
      const peerKey = `${socket.remoteAddress}|${socket.remotePort}`;
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.handshaking.delete(peerKey);
        this.onSocketGone();
      });
      this.handshaking.set(peerKey, { chain, dst });
      // Not resumed: the TLS socket reads the connection itself (resuming would take its bytes).
      this.acceptor.accept(socket, chain.tls);
      return;
    }
    this.relay(socket, chain, dst, detected, undefined);
  }

  /** A TCP chain's mTLS handshake succeeded: relay the decrypted stream. */
  private onMtls(tlsSocket: net.Socket, peer: string | undefined): void {
    const peerKey = `${tlsSocket.remoteAddress}|${tlsSocket.remotePort}`;
    const pending = this.handshaking.get(peerKey);
    if (pending === undefined) return void tlsSocket.destroy();
    this.handshaking.delete(peerKey);
    this.relay(tlsSocket, pending.chain, pending.dst, 'tls', peer);
  }

  /** Hands a TCP chain's connection to the TCP stack, tracked until the stack reports its end. */
  private relay(socket: net.Socket, chain: CaptureChain, dst: Destination, detected: DetectedProtocol | undefined, peer: string | undefined): void {
    const scope = this.tcpByChain.get(chain.name);
    if (scope === undefined) return void socket.destroy();
    this.sockets.add(socket);
    this.scope.tcpStack.serve(new TcpConnection(socket, scope, this, peer, dst, detected));
  }

  connectionEnded(conn: TcpConnection): void {
    this.sockets.delete(conn.socket);
    this.onSocketGone();
  }
}
