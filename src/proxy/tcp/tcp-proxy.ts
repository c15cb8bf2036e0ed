// Relays one downstream TCP connection to an upstream endpoint: bytes both ways with stream
// backpressure, half-close passed on (a FIN from one side ends the write side of the other),
// both sockets destroyed when either errors.
import net from 'node:net';

/** Where a relay connects: a pooled endpoint, or a captured connection's original destination. */
export interface TcpTarget {
  readonly address: string;
  readonly port: number;
  readonly key: string;
  /** Connections in flight (least-request balancing reads it). */
  active: number;
  /** Opens the upstream connection itself (mTLS endpoints); plain TCP when absent. */
  dial?(alpn: string | undefined, opts: { allowHalfOpen?: boolean }): net.Socket;
}

/** Bytes of one finished relay, from the downstream's point of view. */
export interface TcpRelayResult {
  /** From the downstream client. */
  readonly received: number;
  /** To the downstream client. */
  readonly sent: number;
  /** Why the relay ended abnormally, if it did. */
  readonly error?: Error;
}

/**
 * Connects to `endpoint` and relays `down` (created with allowHalfOpen) until both sides are
 * closed; `done` runs once at the end.
 */
export function relayTcp(down: net.Socket, endpoint: TcpTarget, connectTimeoutMs: number, done: (result: TcpRelayResult) => void): void {
  endpoint.active++;
  // mTLS endpoints dial themselves (opaque bytes: no ALPN); others are plain TCP.
  const up = endpoint.dial ? endpoint.dial(undefined, { allowHalfOpen: true }) : net.connect({ host: endpoint.address, port: endpoint.port, allowHalfOpen: true, noDelay: true });
  let failure: Error | undefined;
  let open = 2;
  if (connectTimeoutMs > 0) {
    up.setTimeout(connectTimeoutMs, () => up.destroy(Object.assign(new Error(`connect to ${endpoint.key} timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
    up.once('connect', () => up.setTimeout(0));
  }
  const onError = (e: Error) => {
    failure ??= e;
    down.destroy();
    up.destroy();
  };
  const onClose = () => {
    if (--open > 0) return;
    endpoint.active--;
    done(failure === undefined ? { received: down.bytesRead, sent: down.bytesWritten } : { received: down.bytesRead, sent: down.bytesWritten, error: failure });
  };
  down.on('error', onError);
  up.on('error', onError);
  // A close without error while the other side still reads (e.g. a reset) must end both.
  down.once('close', () => {
    if (!up.destroyed && (down.readableEnded === false || up.writableEnded === false)) up.destroy();
    onClose();
  });
  up.once('close', () => {
    if (!down.destroyed && (up.readableEnded === false || down.writableEnded === false)) down.destroy();
    onClose();
  });
  down.pipe(up);
  up.pipe(down);
}
