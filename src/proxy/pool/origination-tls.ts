// TLS originated to an external host (an ExternalService `http` port with tls.mode Originate):
// the application spoke plain HTTP, the proxy speaks TLS. The server's chain must end in the
// given CAs (else Node's default roots) and its certificate must name the server name (Node's
// checkServerIdentity against `servername`). Handshakes are counted like mesh ones.
import { createHash } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { OriginationTls } from '../config/runtime-config.js';
import type { TlsHandshakeCounts } from '../metrics/tls-handshakes.js';
import { onReadOption, type DialOptions } from './dial-tcp.js';
import { countHandshake } from './mesh-tls.js';

/** What an external endpoint needs to dial TLS: its server name and the secure context of its CAs (made once per endpoint). */
export interface OriginationTarget {
  readonly serverName: string;
  /** Undefined: Node's default roots. */
  readonly context: tls.SecureContext | undefined;
  readonly handshakes: TlsHandshakeCounts;
}

/** The target of `origination`: its CAs read once, here, not per connection. */
export function originationTarget(origination: OriginationTls, handshakes: TlsHandshakeCounts): OriginationTarget {
  const context = origination.ca === undefined ? undefined : tls.createSecureContext({ ca: origination.ca, minVersion: 'TLSv1.2' });
  return { serverName: origination.serverName, context, handshakes };
}

/** What tells apart the pools of one endpoint's origination settings: a new CA or server name in a new config gets new connections. */
export function originationKey(cluster: string, origination: OriginationTls): string {
  const ca = origination.ca === undefined ? 'default-roots' : createHash('sha256').update(origination.ca).digest('hex').slice(0, 16);
  return `${cluster} ${origination.serverName} ${ca}`;
}

/** Connects with TLS to an external host; a certificate that does not chain to the CAs or name the server fails the socket with Node's error. */
export function dialOriginationTls(host: string, port: number, target: OriginationTarget, session: Buffer | undefined, opts: DialOptions = {}): tls.TLSSocket {
  const onread = onReadOption(opts.readInto);
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean; onread?: net.OnReadOpts } = {
    host,
    port,
    servername: target.serverName,
    allowHalfOpen: opts.allowHalfOpen ?? false,
    ...(onread ? { onread } : {}),
    ...(target.context ? { secureContext: target.context } : { minVersion: 'TLSv1.2' }),
    rejectUnauthorized: true,
    ALPNProtocols: ['http/1.1'],
    ...(session ? { session } : {}),
  };
  const socket = tls.connect(options);
  socket.setNoDelay(true);
  countHandshake(socket, target.handshakes);
  return socket;
}
