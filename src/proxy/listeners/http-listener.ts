// An HTTP listener: one TCP port serving HTTP/1.x and HTTP/2 prior knowledge (h2c). Each
// connection is sniffed: HTTP/1.x is served by the proxy's own connection code
// (H1ServerConnection), HTTP/2 by a node:http2 server that never listens itself; each request
// gets a RequestContext from the scope current at that moment.
// Hostile clients meet the listener's DownstreamLimits: a connection cap, a deadline for the
// request head (408) and the TLS handshake, 400 for what the parser refuses (HTTP/0.9 too), 431
// past the header count or size, idle connections and stalled HTTP/2 sessions closed, HTTP/2
// streams reset before they were served never forwarded, and rapid-reset clients sent away.
import http2 from 'node:http2';
import net from 'node:net';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { HttpListenerScope } from '../data-plane-snapshot.js';
import { internalError, type ProxyError } from '../errors.js';
import { H2Downstream, resetByClient } from '../http/downstream.js';
import type { H1Downstream } from '../http/h1-downstream.js';
import { RequestContext } from '../http/request-context.js';
import { requestHeadProblem } from '../http/request-head-checks.js';
import { maxRequestHeaders, UNCOUNTED_GUARD, type DownstreamGuard, type DownstreamLimits, type RejectReason } from './downstream-limits.js';
import { H1ServerConnection, type H1ConnectionHost } from './h1-server-connection.js';
import { H2ResetGuard } from './h2-reset-guard.js';
import { bind, listenerKey, type Listener } from './listener.js';
import { sniffProtocol } from './protocol-sniffer.js';
import { MeshTlsAcceptor } from './mesh-tls-accept.js';
import { GatewayTlsAcceptor } from './gateway-tls-accept.js';
import type { GatewayCertificates } from '../identity/gateway-certificates.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import type { TlsHandshakeCounts } from '../metrics/tls-handshakes.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR } = http2.constants;
/** The caller's SPIFFE ID on an mTLS connection. */
const kPeer = Symbol('trellis.peer');
type TrackedSocket = net.Socket & { [kPeer]?: string };

function ignore(): void {}

/** What a downstream HTTP/2 session has done: streams open now, and its resets; who it came from. */
interface SessionState {
  open: number;
  readonly resets: H2ResetGuard;
  /** The caller's SPIFFE ID on an mTLS connection (read once per session, not per stream). */
  readonly peer: string | undefined;
  readonly listener: HttpListener;
}
const kState = Symbol('trellis.sessionState');
type GuardedSession = http2.ServerHttp2Session & { [kState]?: SessionState };
/** A downstream stream's request and session, for its 'close' handler (defined once, below). */
const kRequest = Symbol('trellis.h2Request');
const kSession = Symbol('trellis.h2Session');
type ServedStream = http2.ServerHttp2Stream & { [kRequest]?: RequestContext; [kSession]?: GuardedSession };

/** The HTTP/2 server a listener hands its sniffed h2c and h2 connections to. */
function createH2Server(): http2.Http2Server {
  return http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
}

/** How often the listener checks request-head deadlines and keep-alive timeouts: a bound is at most this much late. */
function sweepIntervalMs(limits: DownstreamLimits): number {
  return Math.min(1000, Math.max(50, Math.floor(limits.requestHeadTimeoutMs / 4)));
}

export class HttpListener implements Listener, H1ConnectionHost {
  readonly key: string;
  private readonly sockets = new Set<net.Socket>();
  private readonly connections = new Set<H1ServerConnection>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/2 requests waiting for the end of the current turn of the event loop (see onH2Stream). */
  private toServe: RequestContext[] = [];
  private sweep: NodeJS.Timeout | undefined = undefined;
  draining = false;

  private constructor(
    private scope: HttpListenerScope,
    private readonly server: net.Server,
    readonly bound: net.AddressInfo,
    private readonly tlsSource: TlsSource | undefined,
    private readonly handshakes: TlsHandshakeCounts | undefined,
    private readonly guard: DownstreamGuard,
    private readonly certificates?: GatewayCertificates,
  ) {
    this.key = listenerKey('http', scope.listener.address, scope.listener.port);
  }

  /**
   * Binds and starts serving with `scope`; a bind failure is a value. mTLS handshakes count into
   * `handshakes`; `guard` has the limits and counts what they refuse.
   */
  static async open(
    scope: HttpListenerScope,
    logger?: Logger,
    tlsSource?: TlsSource,
    handshakes?: TlsHandshakeCounts,
    guard: DownstreamGuard = UNCOUNTED_GUARD,
    certificates?: GatewayCertificates,
  ): Promise<Result<HttpListener, ProxyError>> {
    const server = net.createServer({ noDelay: true });
    // node closes a connection over the cap as soon as it is accepted ('drop').
    server.maxConnections = guard.limits.maxConnectionsPerListener;
    server.on('drop', () => guard.rejected('connection_limit'));
    const bound = await bind(server, scope.listener.name, scope.listener.address, scope.listener.port);
    if (!bound.ok) return err(bound.error);
    const listener = new HttpListener(scope, server, bound.value, tlsSource, handshakes, guard, certificates);
    listener.wire(logger);
    return ok(listener);
  }

  /**
   * An HTTP listener that binds nothing: a capture listener hands it connections it chose for
   * this route table (accept()), under the capture listener's connection cap. `bound` is the
   * capture listener's address.
   */
  static detached(
    scope: HttpListenerScope,
    bound: net.AddressInfo,
    logger?: Logger,
    tlsSource?: TlsSource,
    handshakes?: TlsHandshakeCounts,
    guard: DownstreamGuard = UNCOUNTED_GUARD,
  ): HttpListener {
    const listener = new HttpListener(scope, net.createServer(), bound, tlsSource, handshakes, guard);
    listener.wire(logger);
    return listener;
  }

  /** Serves a connection accepted elsewhere (paused, its first bytes possibly put back). */
  accept(socket: net.Socket): void {
    this.server.emit('connection', socket);
    // A TLS socket now reads the connection itself: resuming the raw one would take its bytes.
    if (this.scope.listener.tls === undefined) socket.resume();
  }

  /** Serves new requests with `scope` (requests in flight keep theirs). */
  update(scope: HttpListenerScope): void {
    this.scope = scope;
  }

  get name(): string {
    return this.scope.listener.name;
  }

  close(graceMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    // h2 sessions go with GOAWAY below; a socket still being sniffed is served (without
    // keep-alive) once it speaks; an HTTP/1 connection closes now if idle, else after its response.
    for (const conn of this.connections) conn.drain();
    for (const session of this.sessions) session.close();
    return new Promise((resolve) => {
      const check = () => {
        if (this.sockets.size === 0) {
          clearTimeout(timer);
          clearInterval(this.sweep);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
        for (const session of this.sessions) session.destroy();
        clearInterval(this.sweep);
        resolve();
      }, graceMs);
      timer.unref();
      this.onSocketGone = check;
      check();
    });
  }

  private onSocketGone: () => void = ignore;
  private acceptor: MeshTlsAcceptor | undefined;
  private gatewayAcceptor: GatewayTlsAcceptor | undefined;

  private logger: Logger | undefined;

  private wire(logger: Logger | undefined): void {
    this.logger = logger;
    const h2 = createH2Server();
    this.sweep = setInterval(sweepConnections, sweepIntervalMs(this.guard.limits), this.connections);
    this.sweep.unref();
    const track = (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.onSocketGone();
      });
    };
    this.server.on('connection', (raw: net.Socket) => {
      track(raw);
      const terminate = this.scope.listener.terminate;
      if (terminate !== undefined) {
        this.gatewayAcceptor ??= new GatewayTlsAcceptor(
          this.certificates,
          this.guard.limits.handshakeTimeoutMs,
          logger,
          (socket) => {
            track(socket);
            this.serveConnection(socket, h2);
          },
          this.handshakes,
        );
        return this.gatewayAcceptor.accept(raw, terminate);
      }
      const tls = this.scope.listener.tls;
      if (tls === undefined) return this.serveConnection(raw, h2);
      this.acceptor ??= new MeshTlsAcceptor(
        this.tlsSource,
        this.guard.limits.handshakeTimeoutMs,
        logger,
        (socket, peer) => {
          if (peer !== undefined) {
            // Track the TLS socket too (its raw one stays tracked): draining reads protocol and requests from it.
            (socket as TrackedSocket)[kPeer] = peer;
            track(socket);
          }
          this.serveConnection(socket, h2);
        },
        this.handshakes,
      );
      this.acceptor.accept(raw, tls);
    });
    this.server.on('error', (e) => logger?.warn({ listener: this.name, err: e }, 'listener error'));
    this.wireH2(h2);
  }

  private serveConnection(socket: net.Socket, h2: http2.Http2Server): void {
    sniffProtocol(
      socket,
      this.guard.limits.requestHeadTimeoutMs,
      (protocol) => {
        if (protocol === 'h2') {
          // node:http2 reads the put-back bytes itself.
          h2.emit('connection', socket);
        } else {
          this.connections.add(new H1ServerConnection(socket, this, (socket as TrackedSocket)[kPeer]));
        }
      },
      () => this.guard.rejected('head_timeout'),
    );
  }

  // --- H1ConnectionHost ---------------------------------------------------------------------

  get limits(): DownstreamLimits {
    return this.guard.limits;
  }

  rejected(reason: RejectReason): void {
    this.guard.rejected(reason);
  }

  closed(conn: H1ServerConnection): void {
    this.connections.delete(conn);
  }

  serve(down: H1Downstream, peer: string | undefined): void {
    const ctx = new RequestContext(this.scope, down, down.head.method, down.head.target, down.header('host') ?? '');
    ctx.peerIdentity = peer;
    down.observer = ctx;
    const problem = requestHeadProblem(down.head.rawHeaders, maxRequestHeaders(this.guard.limits, ctx.direction));
    if (problem !== undefined) {
      this.guard.rejected(problem.status === 431 ? 'too_many_headers' : 'duplicate_host');
      down.closeAfter = true;
      return ctx.fail(problem);
    }
    serve(ctx);
  }

  private wireH2(h2: http2.Http2Server): void {
    const limits = this.guard.limits;
    h2.on('session', (session: GuardedSession) => {
      this.sessions.add(session);
      const peer = (session.socket as TrackedSocket | undefined)?.[kPeer];
      session[kState] = { open: 0, resets: new H2ResetGuard(limits.maxH2ClientResets), peer, listener: this };
      session.on('error', ignore);
      session.once('close', () => this.sessions.delete(session));
      // No frame either way for idleTimeoutMs: an idle session goes, and so do streams that stalled.
      session.setTimeout(limits.idleTimeoutMs, () => {
        if ((session[kState]?.open ?? 0) > 0) this.guard.rejected('idle_timeout');
        session.destroy(undefined, NGHTTP2_NO_ERROR);
      });
      // The session's own event: by the time it comes, a stream reset in the same read is already gone from it.
      session.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) =>
        this.onH2Stream(session, stream, headers, flags, rawHeaders),
      );
      if (this.draining) session.close();
    });
    h2.on('sessionError', ignore);
  }

  private onH2Stream(session: GuardedSession, stream: ServedStream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    const scope = this.scope;
    const state = session[kState]!;
    state.open++;
    state.resets.streamOpened();
    stream.on('error', ignore);
    const down = new H2Downstream(stream, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
    const authority = headers[':authority'] ?? down.header('host') ?? '';
    const ctx = new RequestContext(scope, down, headers[':method'] ?? 'GET', headers[':path'] ?? '/', authority);
    ctx.peerIdentity = state.peer;
    stream[kRequest] = ctx;
    stream[kSession] = session;
    stream.once('close', onH2StreamClose);
    const problem = requestHeadProblem(rawHeaders, maxRequestHeaders(this.guard.limits, ctx.direction));
    if (problem !== undefined) {
      this.guard.rejected(problem.status === 431 ? 'too_many_headers' : 'duplicate_host');
      return ctx.fail(problem);
    }
    // Served once node has read the rest of what arrived with the HEADERS frame: a stream the
    // client reset at once (rapid reset), or whose body broke its content-length, is never
    // forwarded. One immediate serves every stream that arrived in this turn.
    if (this.toServe.push(ctx) === 1) setImmediate(serveWaiting, this);
  }

  /** Serves the HTTP/2 requests that arrived in the last turn of the event loop, unless their stream already closed. */
  serveWaiting(): void {
    const waiting = this.toServe;
    this.toServe = [];
    for (let i = 0; i < waiting.length; i++) {
      const ctx = waiting[i]!;
      if (!ctx.done && !(ctx.downstream as H2Downstream).stream.closed) serve(ctx);
    }
  }

  /** A downstream stream closed: its request is over; a client that resets most of its streams is sent away. */
  h2StreamClosed(session: GuardedSession, stream: http2.ServerHttp2Stream, ctx: RequestContext): void {
    const state = session[kState]!;
    state.open--;
    ctx.downstreamClosed();
    if (resetByClient(stream) && state.resets.clientReset() && !session.closed) this.resetFlood(session);
  }

  /**
   * A client resetting streams abusively (CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM, no new
   * stream, and the connection closes once the streams it has finish. Graceful, because the
   * client may be another sidecar passing on its own clients' resets: the others' streams on it
   * complete, and its pool opens a new session.
   */
  private resetFlood(session: GuardedSession): void {
    this.guard.rejected('h2_reset_flood');
    this.logger?.warn(
      { listener: this.name, remote: session.socket?.remoteAddress, maxResets: this.guard.limits.maxH2ClientResets },
      'closed an HTTP/2 connection whose client reset most of its streams (rapid reset)',
    );
    session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();
  }
}

function sweepConnections(connections: Set<H1ServerConnection>): void {
  const now = Date.now();
  for (const conn of connections) conn.check(now);
}

function serveWaiting(listener: HttpListener): void {
  listener.serveWaiting();
}

function onH2StreamClose(this: ServedStream): void {
  const session = this[kSession]!;
  session[kState]!.listener.h2StreamClosed(session, this, this[kRequest]!);
}

/** Runs the stack; a throw is a bug in a layer, answered as 500 rather than crashing the proxy. */
function serve(ctx: RequestContext): void {
  try {
    ctx.scope.stack.serve(ctx);
  } catch (e) {
    ctx.fail(internalError(e));
  }
}
