// The HTTP/1.1 connection pool of one upstream endpoint: idle keep-alive connections reused
// last-in first-out (the warmest socket first), new ones opened on demand, idle ones closed
// after IDLE_TIMEOUT_MS so that we close before the server does. When the endpoint leaves the
// config, connections still dialling give their requests up to be sent elsewhere.
import { endpointGone } from '../errors.js';
import { H1Connection, type Dialer, type H1ConnectionOwner } from './h1-connection.js';

/** Below the common server keep-alive timeouts (Node.js 5 s, nginx 75 s) to dodge the close race. */
export const IDLE_TIMEOUT_MS = 4000;

export class H1Pool implements H1ConnectionOwner {
  /** Invariant: every member is connected or connecting, not destroyed, and has no exchange. */
  private readonly idle: H1Connection[] = [];
  /** Connections ever opened (tests and /stats read it). */
  opened = 0;
  /** Connections open or opening now (busy and idle). */
  live = 0;
  /** Invariant: the connections opened and not up yet (nor destroyed). */
  private readonly dialling = new Set<H1Connection>();
  private retired = false;
  /** Called when a connection goes idle or closes (capacity a pending request may take); set by the registry. */
  onFree: (() => void) | undefined = undefined;

  constructor(
    readonly label: string,
    private readonly host: string,
    private readonly port: number,
    private readonly dialer?: Dialer,
  ) {}

  /** An idle connection, or a new one when none is idle or `fresh` is asked for. */
  acquire(connectTimeoutMs: number, fresh = false): H1Connection {
    if (!fresh) {
      const conn = this.idle.pop();
      if (conn !== undefined) return conn;
    }
    this.opened++;
    this.live++;
    const conn = new H1Connection(this, this.host, this.port, connectTimeoutMs, this.dialer);
    this.dialling.add(conn);
    return conn;
  }

  connected(conn: H1Connection): void {
    this.dialling.delete(conn);
  }

  release(conn: H1Connection): void {
    if (this.retired) conn.destroy();
    else {
      this.idle.push(conn);
      this.onFree?.();
    }
  }

  /** Called once per connection, when it is destroyed. */
  remove(conn: H1Connection): void {
    this.live--;
    this.dialling.delete(conn);
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.onFree?.();
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Closes connections idle since before `now - IDLE_TIMEOUT_MS`. */
  sweep(now: number): void {
    // Oldest first: the stack's bottom.
    while (this.idle.length > 0 && now - this.idle[0]!.idleSince > IDLE_TIMEOUT_MS) this.idle[0]!.destroy();
  }

  /**
   * Closes idle connections now and busy ones when their exchange completes; connections still
   * dialling give their requests up as ENDPOINT_GONE (they never went out: sent elsewhere).
   */
  retire(): void {
    this.retired = true;
    while (this.idle.length > 0) this.idle[this.idle.length - 1]!.destroy();
    for (const conn of [...this.dialling]) conn.abandonDial(endpointGone(this.label, 'removed', false));
  }
}
