// An HTTP listener: one TCP port serving HTTP/1.x and HTTP/2 prior knowledge (h2c). Each
// connection is sniffed and handed to a node:http or node:http2 server that never listens
// itself; each request gets a RequestContext from the scope current at that moment.
// Hostile clients meet the listener's DownstreamLimits: a connection cap, a deadline for the
// request head (408) and the TLS handshake, 400 for what the parser refuses (HTTP/0.9 too), 431
// past the header count, idle connections and stalled HTTP/2 sessions closed, HTTP/2 streams
// reset before they were served never forwarded, and rapid-reset clients sent away.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { HttpListenerScope } from '../data-plane-snapshot.js';
import { badRequest, headersTooLarge, internalError, requestHeadTimeout, type ProxyError } from '../errors.js';
import { H1Downstream, H2Downstream, resetByClient } from '../http/downstream.js';
import { rawH1ErrorResponse } from '../http/error-response.js';
import { RequestContext } from '../http/request-context.js';
import { requestHeadProblem } from '../http/request-head-checks.js';
import { INBOUND_HEADER_HEADROOM, maxRequestHeaders, UNCOUNTED_GUARD, type DownstreamGuard, type DownstreamLimits, type RejectReason } from './downstream-limits.js';
import { H2ResetGuard } from './h2-reset-guard.js';
import { bind, listenerKey, type Listener } from './listener.js';
import { lacksHttpVersion, sniffProtocol } from './protocol-sniffer.js';
import { MeshTlsAcceptor } from './mesh-tls-accept.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import type { TlsHandshakeCounts } from '../metrics/tls-handshakes.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR } = http2.constants;
/** node:http's own limit on a request head's size (--max-http-header-size), named in its 431. */
const MAX_HEADER_BYTES = http.maxHeaderSize;

/** node:http's response with the request context attached, so 'close' needs no closure. */
class ProxyResponse extends http.ServerResponse {
  ctx: RequestContext | undefined = undefined;
  /** The connection, kept because node detaches `socket` before 'close'. */
  trackedSocket: TrackedSocket | undefined = undefined;
}

/** Requests in flight on a downstream HTTP/1 socket, and whether its listener is draining. */
const kActive = Symbol('trellis.activeRequests');
const kDraining = Symbol('trellis.draining');
/** Which server a sniffed socket went to (session.socket is a proxy object, so h2 sockets are marked). */
const kProtocol = Symbol('trellis.protocol');
/** The caller's SPIFFE ID on an mTLS connection. */
const kPeer = Symbol('trellis.peer');
type TrackedSocket = net.Socket & { [kActive]?: number; [kDraining]?: boolean; [kProtocol]?: 'http/1.1' | 'h2'; [kPeer]?: string };

function onResponseClose(this: ProxyResponse): void {
  const socket = this.trackedSocket;
  if (socket !== undefined) {
    const active = (socket[kActive] ?? 1) - 1;
    socket[kActive] = active;
    // A draining listener closes a connection as soon as its last response is out.
    if (active === 0 && socket[kDraining] === true) socket.end();
  }
  this.ctx?.downstreamClosed();
}

function ignore(): void {}

/** What a downstream HTTP/2 session has done: streams open now, and its resets. */
interface SessionState {
  open: number;
  readonly resets: H2ResetGuard;
}
const kState = Symbol('trellis.sessionState');
type GuardedSession = http2.ServerHttp2Session & { [kState]?: SessionState };

type H1Server = http.Server<typeof http.IncomingMessage, typeof ProxyResponse>;

/** The node servers a listener hands its sniffed connections to, configured with `limits`. */
function createServers(limits: DownstreamLimits): { h1: H1Server; h2: http2.Http2Server } {
  const h1 = http.createServer({
    ServerResponse: ProxyResponse,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    headersTimeout: limits.requestHeadTimeoutMs,
    // The body is bounded by idleTimeoutMs between bytes, not overall: uploads may be long.
    requestTimeout: 0,
    // How often node checks heads against headersTimeout: the bound is at most this much late.
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(limits.requestHeadTimeoutMs / 4))),
    noDelay: true,
  });
  // node keeps the first maxHeadersCount fields and drops the rest silently: one past the limit tells.
  h1.maxHeadersCount = limits.maxRequestHeaders + INBOUND_HEADER_HEADROOM + 1;
  h1.timeout = limits.idleTimeoutMs;
  // node:http checks headersTimeout only on a server that listens (its 'listening' starts the
  // checks); this one is handed its connections, so it is told it listens.
  h1.emit('listening');
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  return { h1, h2 };
}

export class HttpListener implements Listener {
  readonly key: string;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private draining = false;

  private constructor(
    private scope: HttpListenerScope,
    private readonly server: net.Server,
    readonly bound: net.AddressInfo,
    private readonly tlsSource: TlsSource | undefined,
    private readonly handshakes: TlsHandshakeCounts | undefined,
    private readonly guard: DownstreamGuard,
  ) {
    this.key = listenerKey('http', scope.listener.address, scope.listener.port);
  }

  /**
   * Binds and starts serving with `scope`; a bind failure is a value. mTLS handshakes count into
   * `handshakes`; `guard` has the limits and counts what they refuse.
   */
  static async open(scope: HttpListenerScope, logger?: Logger, tlsSource?: TlsSource, handshakes?: TlsHandshakeCounts, guard: DownstreamGuard = UNCOUNTED_GUARD): Promise<Result<HttpListener, ProxyError>> {
    const server = net.createServer({ noDelay: true });
    // node closes a connection over the cap as soon as it is accepted ('drop').
    server.maxConnections = guard.limits.maxConnectionsPerListener;
    server.on('drop', () => guard.rejected('connection_limit'));
    const bound = await bind(server, scope.listener.name, scope.listener.address, scope.listener.port);
    if (!bound.ok) return err(bound.error);
    const listener = new HttpListener(scope, server, bound.value, tlsSource, handshakes, guard);
    listener.wire(logger);
    return ok(listener);
  }

  /**
   * An HTTP listener that binds nothing: a capture listener hands it connections it chose for
   * this route table (accept()), under the capture listener's connection cap. `bound` is the
   * capture listener's address.
   */
  static detached(scope: HttpListenerScope, bound: net.AddressInfo, logger?: Logger, tlsSource?: TlsSource, handshakes?: TlsHandshakeCounts, guard: DownstreamGuard = UNCOUNTED_GUARD): HttpListener {
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
    for (const socket of this.sockets as Set<TrackedSocket>) {
      // h2 sessions go with GOAWAY below; a socket still being sniffed is served (without
      // keep-alive) once it speaks; an HTTP/1 socket closes now if idle, else after its response.
      if (socket[kProtocol] !== 'http/1.1') continue;
      if ((socket[kActive] ?? 0) === 0) socket.destroy();
      else socket[kDraining] = true;
    }
    for (const session of this.sessions) session.close();
    return new Promise((resolve) => {
      const check = () => {
        if (this.sockets.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
        for (const session of this.sessions) session.destroy();
        resolve();
      }, graceMs);
      timer.unref();
      this.onSocketGone = check;
      check();
    });
  }

  private onSocketGone: () => void = ignore;
  private acceptor: MeshTlsAcceptor | undefined;

  private logger: Logger | undefined;

  private wire(logger: Logger | undefined): void {
    this.logger = logger;
    const { h1, h2 } = createServers(this.guard.limits);
    const track = (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.onSocketGone();
      });
    };
    this.server.on('connection', (raw: net.Socket) => {
      track(raw);
      const tls = this.scope.listener.tls;
      if (tls === undefined) return this.serveConnection(raw, h1, h2);
      this.acceptor ??= new MeshTlsAcceptor(this.tlsSource, this.guard.limits.handshakeTimeoutMs, logger, (socket, peer) => {
        if (peer !== undefined) {
          // Track the TLS socket too (its raw one stays tracked): draining reads protocol and requests from it.
          (socket as TrackedSocket)[kPeer] = peer;
          track(socket);
        }
        this.serveConnection(socket, h1, h2);
      }, this.handshakes);
      this.acceptor.accept(raw, tls);
    });
    this.server.on('error', (e) => logger?.warn({ listener: this.name, err: e }, 'listener error'));
    this.wireServers(h1, h2);
  }

  private serveConnection(socket: net.Socket, h1: H1Server, h2: http2.Http2Server): void {
    sniffProtocol(socket, this.guard.limits.requestHeadTimeoutMs, (protocol, first) => {
      // node:http2 reads the put-back bytes itself; node:http needs the stream flowing again.
      (socket as TrackedSocket)[kProtocol] = protocol;
      if (protocol === 'h2') {
        h2.emit('connection', socket);
      } else if (lacksHttpVersion(first)) {
        this.refuseHead(socket, badRequest('the request line has no HTTP version (HTTP/0.9 is not served)'), 'malformed_request');
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    }, () => this.guard.rejected('head_timeout'));
  }

  /** Answers a connection whose request head never became a request (timed out, refused by the parser), then closes it. */
  private refuseHead(socket: net.Socket, error: ProxyError, reason: RejectReason): void {
    this.guard.rejected(reason);
    const inFlight = (socket as net.Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    // A response already under way on this connection cannot be followed by another one.
    if (!socket.writable || socket.destroyed || (inFlight != null && inFlight.headersSent)) return void socket.destroy();
    socket.end(rawH1ErrorResponse(error), () => socket.destroy());
  }

  private wireServers(h1: H1Server, h2: http2.Http2Server): void {
    h1.on('request', (req: http.IncomingMessage, res: ProxyResponse) => this.onH1Request(req, res));
    h1.on('clientError', (e: NodeJS.ErrnoException, socket: net.Socket) => {
      // node's parser refused the head, or headersTimeout passed; anything else is the socket's own error.
      if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT') this.refuseHead(socket, requestHeadTimeout(this.guard.limits.requestHeadTimeoutMs), 'head_timeout');
      else if (e.code === 'HPE_HEADER_OVERFLOW') this.refuseHead(socket, headersTooLarge(MAX_HEADER_BYTES), 'too_many_headers');
      else if (e.code?.startsWith('HPE_') === true) this.refuseHead(socket, badRequest(`malformed request head (${e.code}: ${e.message})`), 'malformed_request');
      else socket.destroy();
    });

    const limits = this.guard.limits;
    h2.on('session', (session: GuardedSession) => {
      this.sessions.add(session);
      session[kState] = { open: 0, resets: new H2ResetGuard(limits.maxH2ClientResets) };
      session.on('error', ignore);
      session.once('close', () => this.sessions.delete(session));
      // No frame either way for idleTimeoutMs: an idle session goes, and so do streams that stalled.
      session.setTimeout(limits.idleTimeoutMs, () => {
        if ((session[kState]?.open ?? 0) > 0) this.guard.rejected('idle_timeout');
        session.destroy(undefined, NGHTTP2_NO_ERROR);
      });
      // The session's own event: by the time it comes, a stream reset in the same read is already gone from it.
      session.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => this.onH2Stream(session, stream, headers, flags, rawHeaders));
      if (this.draining) session.close();
    });
    h2.on('sessionError', ignore);
  }

  private onH1Request(req: http.IncomingMessage, res: ProxyResponse): void {
    const scope = this.scope;
    res.sendDate = false; // the upstream's Date header is forwarded as is
    if (this.draining) res.shouldKeepAlive = false;
    const socket = req.socket as TrackedSocket;
    socket[kActive] = (socket[kActive] ?? 0) + 1;
    res.trackedSocket = socket;
    const down = new H1Downstream(req, res);
    const ctx = new RequestContext(scope, down, req.method!, req.url!, down.header('host') ?? '');
    ctx.peerIdentity = socket[kPeer];
    res.ctx = ctx;
    res.on('close', onResponseClose);
    const problem = requestHeadProblem(req.rawHeaders, maxRequestHeaders(this.guard.limits, ctx.direction));
    if (problem !== undefined) {
      this.guard.rejected(problem.status === 431 ? 'too_many_headers' : 'duplicate_host');
      res.shouldKeepAlive = false;
      return ctx.fail(problem);
    }
    serve(ctx);
  }

  private onH2Stream(session: GuardedSession, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    const scope = this.scope;
    const state = session[kState]!;
    state.open++;
    state.resets.streamOpened();
    stream.on('error', ignore);
    const down = new H2Downstream(stream, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
    const authority = headers[':authority'] ?? down.header('host') ?? '';
    const ctx = new RequestContext(scope, down, headers[':method'] ?? 'GET', headers[':path'] ?? '/', authority);
    ctx.peerIdentity = (session.socket as TrackedSocket | undefined)?.[kPeer];
    stream.once('close', () => {
      state.open--;
      ctx.downstreamClosed();
      if (resetByClient(stream) && state.resets.clientReset() && !session.closed) this.resetFlood(session);
    });
    const problem = requestHeadProblem(rawHeaders, maxRequestHeaders(this.guard.limits, ctx.direction));
    if (problem !== undefined) {
      this.guard.rejected(problem.status === 431 ? 'too_many_headers' : 'duplicate_host');
      return ctx.fail(problem);
    }
    // Served once node has read the rest of what arrived with the HEADERS frame: a stream the
    // client reset at once (rapid reset), or whose body broke its content-length, is never forwarded.
    setImmediate(serveUnlessClosed, ctx, stream);
  }

  /**
   * A client resetting streams abusively (CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM, no new
   * stream, and the connection closes once the streams it has finish. Graceful, because the
   * client may be another sidecar passing on its own clients' resets: the others' streams on it
   * complete, and its pool opens a new session.
   */
  private resetFlood(session: GuardedSession): void {
    this.guard.rejected('h2_reset_flood');
    this.logger?.warn({ listener: this.name, remote: session.socket?.remoteAddress, maxResets: this.guard.limits.maxH2ClientResets }, 'closed an HTTP/2 connection whose client reset most of its streams (rapid reset)');
    session.goaway(NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();
  }
}

function serveUnlessClosed(ctx: RequestContext, stream: http2.ServerHttp2Stream): void {
  if (ctx.done || stream.closed) return;
  serve(ctx);
}

/** Runs the stack; a throw is a bug in a layer, answered as 500 rather than crashing the proxy. */
function serve(ctx: RequestContext): void {
  try {
    ctx.scope.handler(ctx);
  } catch (e) {
    ctx.fail(internalError(e));
  }
}
