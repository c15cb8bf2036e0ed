// The HTTP/2 (h2c) side of one upstream endpoint: one multiplexed session, opened on first
// use and replaced when it closes, errors or receives GOAWAY (streams already on the old
// session finish there).
import http2 from 'node:http2';
import type { Dialer } from './h1-connection.js';

/** Sessions ever opened and the current one, for an endpoint. */
export class H2SessionPool {
  private session: http2.ClientHttp2Session | null = null;
  /** Sessions ever opened (tests and /stats read it). */
  opened = 0;
  private retired = false;

  constructor(
    readonly label: string,
    private readonly authority: string,
    private readonly dialer?: Dialer,
  ) {}

  /**
   * The session to open a stream on. A new session is connecting until its 'connect' event;
   * streams may be opened on it at once (node queues them).
   */
  acquire(connectTimeoutMs: number): http2.ClientHttp2Session {
    const current = this.session;
    if (current !== null && !current.closed && !current.destroyed) return current;
    return this.open(connectTimeoutMs);
  }

  /** True once `session` connected (a stream error before that is a connect failure). */
  static connected(session: http2.ClientHttp2Session): boolean {
    return !session.connecting && (session as { [kConnected]?: boolean })[kConnected] === true;
  }

  /** Closes the session gracefully: open streams finish, then it goes. */
  retire(): void {
    this.retired = true;
    this.session?.close();
    this.session = null;
  }

  private open(connectTimeoutMs: number): http2.ClientHttp2Session {
    this.opened++;
    const dialer = this.dialer;
    // Until the upstream's SETTINGS arrive (its first frame), nghttp2 assumes it allows
    // peerMaxConcurrentStreams streams; more than it really allows are refused (REFUSED_STREAM,
    // a 502 UPSTREAM_RESET each). One stream until then: the rest wait in nghttp2 for the limit
    // the upstream advertises (or none, when it advertises none), a round trip at most.
    const session = http2.connect(this.authority, { peerMaxConcurrentStreams: 1, ...(dialer ? { createConnection: () => dialer.dial('h2') } : {}) });
    if (this.retired) {
      // A request that picked this endpoint just before it left the config: serve it, then go.
      setImmediate(() => session.close());
    } else {
      this.session = session;
    }
    const forget = () => {
      if (this.session === session) this.session = null;
    };
    let timer: NodeJS.Timeout | undefined;
    if (connectTimeoutMs > 0) {
      timer = setTimeout(() => {
        if (session.connecting) session.destroy(Object.assign(new Error(`no connection within ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, connectTimeoutMs);
      timer.unref();
    }
    session.once('connect', () => {
      (session as { [kConnected]?: boolean })[kConnected] = true;
      if (timer) clearTimeout(timer);
    });
    session.on('goaway', forget);
    session.on('close', () => {
      forget();
      if (timer) clearTimeout(timer);
    });
    // Stream owners see the failure on their streams; the session error itself needs no handling.
    session.on('error', forget);
    return session;
  }
}

const kConnected = Symbol('trellis.h2.connected');
