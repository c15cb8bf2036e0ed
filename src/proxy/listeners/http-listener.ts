// An HTTP listener: one TCP port serving HTTP/1.x and HTTP/2 prior knowledge (h2c). Each
// connection is sniffed and handed to a node:http or node:http2 server that never listens
// itself; each request gets a RequestContext from the scope current at that moment.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Logger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import type { HttpListenerScope } from '../data-plane-snapshot.js';
import { internalError, type ProxyError } from '../errors.js';
import { H1Downstream, H2Downstream } from '../http/downstream.js';
import { RequestContext } from '../http/request-context.js';
import { bind, listenerKey, type Listener } from './listener.js';
import { sniffProtocol } from './protocol-sniffer.js';
import { MeshTlsAcceptor } from './mesh-tls-accept.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import type { TlsHandshakeCounts } from '../metrics/tls-handshakes.js';

const SNIFF_TIMEOUT_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Idle time before the proxy closes a downstream keep-alive connection. */
const KEEP_ALIVE_TIMEOUT_MS = 60_000;
const { NGHTTP2_FLAG_END_STREAM } = http2.constants;

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

export class HttpListener implements Listener {
  readonly key: string;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private draining = false;

  private constructor(
    private scope: HttpListenerScope,
    private readonly server: net.Server,
    readonly bound: net.AddressInfo,
    private readonly tlsSource?: TlsSource,
    private readonly handshakes?: TlsHandshakeCounts,
  ) {
    this.key = listenerKey('http', scope.listener.address, scope.listener.port);
  }

  /** Binds and starts serving with `scope`; a bind failure is a value. mTLS handshakes count into `handshakes`. */
  static async open(scope: HttpListenerScope, logger?: Logger, tlsSource?: TlsSource, handshakes?: TlsHandshakeCounts): Promise<Result<HttpListener, ProxyError>> {
    const h1 = http.createServer({ ServerResponse: ProxyResponse, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, requestTimeout: 0, noDelay: true });
    const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
    const server = net.createServer({ noDelay: true });
    const bound = await bind(server, scope.listener.name, scope.listener.address, scope.listener.port);
    if (!bound.ok) return err(bound.error);
    const listener = new HttpListener(scope, server, bound.value, tlsSource, handshakes);
    listener.wire(h1, h2, logger);
    return ok(listener);
  }

  /**
   * An HTTP listener that binds nothing: a capture listener hands it connections it chose for
   * this route table (accept()). `bound` is the capture listener's address.
   */
  static detached(scope: HttpListenerScope, bound: net.AddressInfo, logger?: Logger, tlsSource?: TlsSource, handshakes?: TlsHandshakeCounts): HttpListener {
    const h1 = http.createServer({ ServerResponse: ProxyResponse, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, requestTimeout: 0, noDelay: true });
    const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
    const listener = new HttpListener(scope, net.createServer(), bound, tlsSource, handshakes);
    listener.wire(h1, h2, logger);
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

  private wire(h1: http.Server<typeof http.IncomingMessage, typeof ProxyResponse>, h2: http2.Http2Server, logger?: Logger): void {
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
      this.acceptor ??= new MeshTlsAcceptor(this.tlsSource, HANDSHAKE_TIMEOUT_MS, logger, (socket, peer) => {
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

  private serveConnection(socket: net.Socket, h1: http.Server<typeof http.IncomingMessage, typeof ProxyResponse>, h2: http2.Http2Server): void {
      sniffProtocol(socket, SNIFF_TIMEOUT_MS, (protocol) => {
        // node:http2 reads the put-back bytes itself; node:http needs the stream flowing again.
        (socket as TrackedSocket)[kProtocol] = protocol;
        if (protocol === 'h2') {
          h2.emit('connection', socket);
        } else {
          h1.emit('connection', socket);
          socket.resume();
        }
      });
  }

  private wireServers(h1: http.Server<typeof http.IncomingMessage, typeof ProxyResponse>, h2: http2.Http2Server): void {
    h1.on('request', (req: http.IncomingMessage, res: ProxyResponse) => this.onH1Request(req, res));
    h1.on('clientError', (_e: Error, socket: net.Socket) => {
      if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });

    h2.on('session', (session: http2.ServerHttp2Session) => {
      this.sessions.add(session);
      session.on('error', ignore);
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
    h2.on('sessionError', ignore);
    h2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number) => this.onH2Stream(stream, headers, flags));
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
    serve(ctx);
  }

  private onH2Stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number): void {
    const scope = this.scope;
    stream.on('error', ignore);
    const down = new H2Downstream(stream, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
    const authority = headers[':authority'] ?? down.header('host') ?? '';
    const ctx = new RequestContext(scope, down, headers[':method'] ?? 'GET', headers[':path'] ?? '/', authority);
    ctx.peerIdentity = (stream.session?.socket as TrackedSocket | undefined)?.[kPeer];
    stream.once('close', () => ctx.downstreamClosed());
    serve(ctx);
  }
}

/** Runs the stack; a throw is a bug in a layer, answered as 500 rather than crashing the proxy. */
function serve(ctx: RequestContext): void {
  try {
    ctx.scope.handler(ctx);
  } catch (e) {
    ctx.fail(internalError(e));
  }
}
