// The one shape of the TCP data path (STYLE 2): a connection goes down a stack of layers to a
// terminal that connects and relays it, and its end (bytes each way, duration, why it failed)
// comes back up through the same layers, innermost first, to the listener that owns it.
// Stages are typed targets (linkerd2-proxy): the connection, then a cluster (ClusterTarget),
// then an endpoint (EndpointTarget); each later target is built by one layer from the one
// before, so no field is left for "a later layer fills it in". Stacks are composed once per
// data plane by tcp-stack.ts; layers are module-level objects, the stack holds no state per
// connection beyond the targets themselves.
//
// Contract for layers:
// - `onConnection` MUST either pass the connection down with `next.serve(target)` exactly once,
//   or end it with `up.onEnd(target, refusedEnd(conn, error))`; never both, never twice.
// - A layer that refuses MUST NOT close the socket itself: the close layer (the one place
//   that turns a refusal into how the downstream is closed) does it on the way up.
// - `onEnd` hears the end of every connection the layer passed down, exactly once, with the
//   target it passed; it MUST pass the end on with `up.onEnd(itsOwnTarget, end)`.
// - A layer MUST NOT capture per-connection state in closures: what it needs on the way up is
//   in the target it passed down (typed fields), what it needs always is in the layer's fields.
// - A layer MUST NOT throw for an expected failure (a refusal is a value: `end.refused`).
// - The terminal MUST report exactly one end to `up`, after both sockets have closed.
import type net from 'node:net';
import type { WeightedChoice } from '../balancer/index.js';
import type { AuthzRules } from '../config/authz-config.js';
import type { DetectedProtocol, Direction } from '../config/runtime-config.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import type { ProxyError } from '../errors.js';
import type { DialOptions } from '../pool/dial-tcp.js';

/** What connections of one TCP listener, or of one TCP chain of a capture listener, are served with until the next config. */
export interface TcpChainScope {
  readonly direction: Direction;
  /** The listener's name: the `listener` label of authorization metrics, and of refusal logs. */
  readonly listener: string;
  /** The name a denial log line gives (a capture listener's chain: `listener|chain`). */
  readonly denyLogName: string;
  /** Authorization (RBAC) on the caller's identity; undefined: none. */
  readonly authz: readonly AuthzRules[] | undefined;
  readonly backends: WeightedChoice<ClusterState>;
}

/** A connection's original destination (SO_ORIGINAL_DST), in transparent mode. */
export interface Destination {
  readonly address: string;
  readonly port: number;
}

/** Whom the stack tells that a connection ended (the listener, which tracks its sockets for draining). */
export interface TcpConnectionOwner {
  connectionEnded(conn: TcpConnection, end: TcpEnd): void;
}

/** The first stage's target: one downstream connection, as its listener hands it to the stack. */
export class TcpConnection {
  /** When the stack got the connection (ms since the epoch), for the end's duration. */
  readonly startedAt = Date.now();

  constructor(
    readonly socket: net.Socket,
    readonly scope: TcpChainScope,
    readonly owner: TcpConnectionOwner,
    /** The caller's SPIFFE ID from mTLS; undefined when it came in plaintext. */
    readonly peer: string | undefined,
    /** Transparent mode only. */
    readonly originalDst: Destination | undefined,
    /** What the capture listener's sniffer saw (`tls` after an mTLS chain's handshake); undefined when it did not look. */
    readonly detected: DetectedProtocol | undefined,
  ) {}
}

/** The second stage's target: the connection and the cluster the weighted pick chose. */
export interface ClusterTarget {
  readonly conn: TcpConnection;
  readonly cluster: ClusterState;
}

/** Where a relay connects: a pooled endpoint, or a captured connection's original destination. */
export interface TcpEndpoint {
  readonly address: string;
  readonly port: number;
  readonly key: string;
  /** Connections in flight (least-request balancing reads it). */
  active: number;
  /** Opens the upstream connection: plain TCP, or mTLS when the cluster asks for it. */
  dial(alpn: string | undefined, opts: DialOptions): net.Socket;
}

/** The last stage's target: the connection, its cluster and the endpoint to relay to. */
export interface EndpointTarget extends ClusterTarget {
  readonly endpoint: TcpEndpoint;
}

/** How a connection ended, from the downstream's point of view. */
export interface TcpEnd {
  /** Bytes from the downstream client. */
  readonly received: number;
  /** Bytes to the downstream client. */
  readonly sent: number;
  readonly durationMs: number;
  /** Why the proxy refused it before relaying; the downstream is still open until the close layer closes it. */
  readonly refused?: ProxyError;
  /** Why the relay ended abnormally; both sockets are already destroyed. */
  readonly error?: Error;
}

// Members are function-typed properties, not methods, so the compiler checks stage types
// strictly (a layer that needs an EndpointTarget cannot be pushed where a ClusterTarget arrives).

/** The way down: serves one target. */
export interface TcpService<T> {
  readonly serve: (target: T) => void;
}

/** The way up: hears how a target's connection ended. */
export interface TcpEndHandler<T> {
  readonly onEnd: (target: T, end: TcpEnd) => void;
}

/** One concern of the stack: takes `In` targets down, passes `Out` targets to the next stage. */
export interface TcpLayer<In, Out> {
  readonly onConnection: (target: In, next: TcpService<Out>, up: TcpEndHandler<In>) => void;
  readonly onEnd: (target: Out, end: TcpEnd, up: TcpEndHandler<In>) => void;
}

/** The bottom of the stack: serves the target itself and reports its end once. */
export interface TcpTerminal<T> {
  readonly onConnection: (target: T, up: TcpEndHandler<T>) => void;
}

/** The end of a connection the proxy refused with `error`. */
export function refusedEnd(conn: TcpConnection, error: ProxyError): TcpEnd {
  return { received: conn.socket.bytesRead, sent: conn.socket.bytesWritten, durationMs: Date.now() - conn.startedAt, refused: error };
}

/** The end of a relayed connection (`error`: why it ended abnormally, if it did). */
export function relayedEnd(conn: TcpConnection, error: Error | undefined): TcpEnd {
  const end = { received: conn.socket.bytesRead, sent: conn.socket.bytesWritten, durationMs: Date.now() - conn.startedAt };
  return error === undefined ? end : { ...end, error };
}
