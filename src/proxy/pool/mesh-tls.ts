// Outbound mTLS to another proxy: dials with the proxy's current workload certificate, verifies
// the server's chain to the mesh roots (the secure context's CA) and that its SPIFFE ID is one
// the control plane expects for the Service. TLS sessions are resumed per endpoint. Each
// handshake's outcome is counted (trellis_tls_handshakes_total, direction outbound).
import type net from 'node:net';
import tls from 'node:tls';
import { uriSans } from '../../common/x509.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import { tlsFailureReason, type TlsHandshakeCounts } from '../metrics/tls-handshakes.js';
import { onReadOption, type DialOptions } from './dial-tcp.js';

/** What an endpoint needs to dial mTLS. */
export interface UpstreamTlsTarget {
  readonly source: TlsSource;
  /** SPIFFE IDs the server may present; empty: none is acceptable. */
  readonly sans: readonly string[];
  /** Where this endpoint's handshakes are counted. */
  readonly handshakes: TlsHandshakeCounts;
}

/** The error a dial fails with when the server is not who the control plane said. */
/** Its message reaches the client in a 502 body (errors.ts publicCause): identities only, never an address. */
export class PeerIdentityError extends Error {
  readonly code = 'ERR_TRELLIS_PEER_IDENTITY';
}

/** The error a dial fails with before this proxy has a workload certificate. */
export class NoCertificateError extends Error {
  readonly code = 'ERR_TRELLIS_NO_CERTIFICATE';
}

/** Connects with mTLS; failures (no certificate yet, handshake, identity) arrive as the socket's 'error'. */
export function dialMeshTls(host: string, port: number, target: UpstreamTlsTarget, alpn: string | undefined, session: Buffer | undefined, opts: DialOptions = {}): tls.TLSSocket {
  const context = target.source.context();
  const onread = onReadOption(opts.readInto);
  // Node passes allowHalfOpen and onread on to the TLSSocket, though ConnectionOptions does not declare them.
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean; onread?: net.OnReadOpts } = {
    host,
    port,
    allowHalfOpen: opts.allowHalfOpen ?? false,
    ...(onread ? { onread } : {}),
    ...(context ? { secureContext: context } : {}),
    rejectUnauthorized: true,
    ...(alpn ? { ALPNProtocols: [alpn] } : {}),
    ...(session ? { session } : {}),
    checkServerIdentity: (_host, cert) => {
      const presented = uriSans(cert.subjectaltname);
      if (presented.some((id) => target.sans.includes(id))) return undefined;
      return new PeerIdentityError(
        `the server presented ${presented.join(', ') || 'no SPIFFE ID'}, expected ${target.sans.length > 0 ? target.sans.join(' or ') : 'none (the control plane knows no workload of this Service)'}`,
      );
    },
  };
  const socket = tls.connect(options);
  socket.setNoDelay(true);
  countHandshake(socket, target.handshakes);
  if (!context) setImmediate(() => socket.destroy(new NoCertificateError('this proxy has no workload certificate yet')));
  return socket;
}

/**
 * Counts the dial's handshake once: ok at secureConnect, failed when the socket closes before
 * it, with the reason of the first error. A TCP connect that never succeeded is no handshake
 * (the connect failure is the pool's to report), except when there was no certificate to offer.
 */
export function countHandshake(socket: tls.TLSSocket, counts: TlsHandshakeCounts): void {
  let connected = false;
  let error: unknown;
  const onConnect = () => {
    connected = true;
  };
  const onError = (e: unknown) => {
    error ??= e;
  };
  // The caller's connect timeout (socket.setTimeout) firing mid-handshake.
  const onTimeout = () => {
    error ??= HANDSHAKE_TIMEOUT;
  };
  const onSecure = () => {
    counts.ok++;
    socket.off('connect', onConnect).off('error', onError).off('timeout', onTimeout).off('close', onClose);
  };
  const onClose = () => {
    socket.off('secureConnect', onSecure);
    const reason = tlsFailureReason(error);
    if (connected || reason === 'no_local_cert') counts.failed[reason]++;
  };
  socket.once('connect', onConnect).on('error', onError).once('timeout', onTimeout).once('secureConnect', onSecure).once('close', onClose);
}

const HANDSHAKE_TIMEOUT = { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' };
