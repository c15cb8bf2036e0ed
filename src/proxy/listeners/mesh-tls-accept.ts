// Inbound mTLS on a mesh listener: terminates TLS with the proxy's current workload certificate,
// requires a client certificate that chains to the mesh roots and is valid now, and hands on the
// decrypted socket with the caller's SPIFFE ID. A node:tls server that never listens does the
// handshake and the verification (sockets are handed to it, as node:http servers get theirs);
// it takes each new secure context before the next connection, so open connections keep theirs.
// PERMISSIVE listeners tell a TLS ClientHello (first byte 0x16, a handshake record) from
// plaintext and pass plaintext on untouched; STRICT ones close anything that is not valid mTLS.
// Every handshake is counted, ok or failed with its reason (trellis_tls_handshakes_total).
import type net from 'node:net';
import tls from 'node:tls';
import { uriSans } from '../../common/x509.js';
import type { Logger } from '../../common/log.js';
import type { InboundTls } from '../config/runtime-config.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import { detachedHandshakeCounts, tlsFailureReason, type TlsHandshakeCounts } from '../metrics/tls-handshakes.js';

const TLS_HANDSHAKE_RECORD = 0x16;
const ALPN = ['h2', 'http/1.1'];

/** Where accepted connections go: the socket to serve and who is calling (undefined: plaintext). */
export type AcceptedCallback = (socket: net.Socket, peer: string | undefined) => void;

export class MeshTlsAcceptor {
  readonly #server: tls.Server;
  #generation = -1;

  constructor(
    private readonly source: TlsSource | undefined,
    private readonly timeoutMs: number,
    private readonly log: Logger | undefined,
    private readonly done: AcceptedCallback,
    private readonly counts: TlsHandshakeCounts = detachedHandshakeCounts('inbound'),
  ) {
    this.#server = tls.createServer({ requestCert: true, rejectUnauthorized: true, ALPNProtocols: ALPN, handshakeTimeout: timeoutMs, minVersion: 'TLSv1.2' });
    this.#server.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => {
      // A client certificate that fails verification is closed by node with a bare "socket hang
      // up"; the verification error it left on the socket is the reason.
      const verifyError = socket.authorizationError as unknown as string | undefined;
      this.counts.failed[tlsFailureReason(verifyError ?? e)]++;
      this.log?.info({ remote: socket.remoteAddress, reason: verifyError ?? e.message }, 'refused an inbound connection: mTLS handshake failed');
      socket.destroy();
    });
    this.#server.on('secureConnection', (socket: tls.TLSSocket) => {
      const peer = uriSans(socket.getPeerCertificate().subjectaltname)[0];
      if (!socket.authorized || !peer?.startsWith('spiffe://')) {
        this.counts.failed[socket.authorized ? 'wrong_identity' : tlsFailureReason(socket.authorizationError)]++;
        this.log?.info(
          { remote: socket.remoteAddress, reason: socket.authorizationError ?? 'no SPIFFE ID' },
          'refused an inbound connection: the client certificate is not a mesh identity',
        );
        socket.destroy();
        return;
      }
      this.counts.ok++;
      this.done(socket, peer);
    });
  }

  /** Takes a new connection of a listener in `config`'s mode. */
  accept(raw: net.Socket, config: InboundTls): void {
    if (config.mode === 'strict') return this.#handshake(raw);
    const onData = (chunk: Buffer) => {
      cleanup();
      raw.pause();
      raw.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_RECORD) return this.#handshake(raw);
      // Plaintext: the caller reads it from the start (its 'data' listener is attached by now).
      this.done(raw, undefined);
      raw.resume();
    };
    const onGone = () => {
      cleanup();
      raw.destroy();
    };
    const cleanup = () => {
      raw.off('data', onData);
      raw.off('error', onGone);
      raw.off('end', onGone);
      raw.off('timeout', onGone);
      raw.setTimeout(0);
    };
    raw.on('data', onData);
    raw.on('error', onGone);
    raw.on('end', onGone);
    raw.on('timeout', onGone);
    raw.setTimeout(this.timeoutMs);
    raw.resume(); // a socket handed on paused (a capture listener's) must flow for the first bytes
  }

  #handshake(raw: net.Socket): void {
    const options = this.source?.contextOptions();
    if (!this.source || !options) {
      this.counts.failed.no_local_cert++;
      this.log?.warn({ remote: raw.remoteAddress }, 'closed an mTLS connection: this proxy has no workload certificate yet');
      raw.destroy();
      return;
    }
    if (this.#generation !== this.source.generation) {
      this.#server.setSecureContext(options);
      this.#generation = this.source.generation;
    }
    this.#server.emit('connection', raw);
  }
}
