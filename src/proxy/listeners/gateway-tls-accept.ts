// A gateway's HTTPS listener: terminates TLS with the certificate its SNI table picks (exact
// name, then the longest `*.suffix`, then a chain without names, else the default chain's), asks
// no client certificate, and hands on the decrypted socket. As for mesh mTLS, a node:tls server
// that never listens does the handshake; contexts are rebuilt when the certificates or the
// table change, so open connections keep theirs. Handshakes are counted like the mesh's.
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../common/log.js';
import type { TerminatingTls } from '../config/runtime-config.js';
import type { GatewayCertificates } from '../identity/gateway-certificates.js';
import { detachedHandshakeCounts, tlsFailureReason, type TlsHandshakeCounts } from '../metrics/tls-handshakes.js';

const ALPN = ['h2', 'http/1.1'];

/** The contexts of one SNI table at one certificates generation. */
interface Contexts {
  readonly exact: Map<string, tls.SecureContext>;
  /** `.suffix` of `*.suffix` names, longest first. */
  readonly wildcards: { suffix: string; context: tls.SecureContext }[];
  readonly any: tls.SecureContext | undefined;
  readonly fallback: tls.SecureContext | undefined;
}

export class GatewayTlsAcceptor {
  readonly #server: tls.Server;
  #contexts: Contexts | undefined;
  #table: TerminatingTls | undefined;
  #generation = -1;

  constructor(
    private readonly certificates: GatewayCertificates | undefined,
    timeoutMs: number,
    private readonly log: Logger | undefined,
    private readonly done: (socket: tls.TLSSocket) => void,
    private readonly counts: TlsHandshakeCounts = detachedHandshakeCounts('outbound'),
  ) {
    this.#server = tls.createServer({
      ALPNProtocols: ALPN,
      handshakeTimeout: timeoutMs,
      minVersion: 'TLSv1.2',
      SNICallback: (servername, cb) => cb(null, this.#pick(servername.toLowerCase())),
    });
    this.#server.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => {
      this.counts.failed[tlsFailureReason(e)]++;
      this.log?.info({ remote: socket.remoteAddress, reason: e.message }, 'refused a gateway connection: TLS handshake failed');
      socket.destroy();
    });
    this.#server.on('secureConnection', (socket: tls.TLSSocket) => {
      this.counts.ok++;
      this.done(socket);
    });
  }

  /** Takes a new connection of a listener with this SNI table. */
  accept(raw: net.Socket, table: TerminatingTls): void {
    const certs = this.certificates;
    if (!certs) {
      this.counts.failed.no_local_cert++;
      raw.destroy();
      return;
    }
    if (this.#table !== table || this.#generation !== certs.generation) {
      this.#contexts = this.#build(table, certs);
      this.#table = table;
      this.#generation = certs.generation;
      // Clients that send no SNI get the server's own context.
      const fallback = this.#contexts.any ?? this.#contexts.fallback;
      const options = fallback ? this.#optionsOf(table.chains.find((c) => c.serverNames.length === 0)?.secrets ?? table.defaultSecrets ?? [], certs) : undefined;
      if (options) this.#server.setSecureContext(options);
    }
    if (!this.#contexts?.any && !this.#contexts?.fallback && this.#contexts?.exact.size === 0 && this.#contexts.wildcards.length === 0) {
      this.counts.failed.no_local_cert++;
      this.log?.warn({ remote: raw.remoteAddress }, 'closed a gateway connection: no certificate of this listener has arrived');
      raw.destroy();
      return;
    }
    this.#server.emit('connection', raw);
  }

  #pick(name: string): tls.SecureContext | undefined {
    const c = this.#contexts;
    if (!c) return undefined;
    const exact = c.exact.get(name);
    if (exact) return exact;
    for (const w of c.wildcards) if (name.endsWith(w.suffix) && name.length > w.suffix.length) return w.context;
    return c.any ?? c.fallback;
  }

  #optionsOf(secrets: readonly string[], certs: GatewayCertificates): tls.SecureContextOptions | undefined {
    const pairs = secrets.map((n) => certs.get(n)).filter((p) => p !== undefined);
    if (pairs.length === 0) return undefined;
    return { cert: pairs.map((p) => p.cert), key: pairs.map((p) => p.key), minVersion: 'TLSv1.2', ALPNProtocols: ALPN } as tls.SecureContextOptions;
  }

  #build(table: TerminatingTls, certs: GatewayCertificates): Contexts {
    const context = (secrets: readonly string[]) => {
      const options = this.#optionsOf(secrets, certs);
      return options ? tls.createSecureContext(options) : undefined;
    };
    const out: Contexts = { exact: new Map(), wildcards: [], any: undefined, fallback: table.defaultSecrets ? context(table.defaultSecrets) : undefined };
    let any: tls.SecureContext | undefined;
    for (const chain of table.chains) {
      const ctx = context(chain.secrets);
      if (!ctx) continue;
      if (chain.serverNames.length === 0) any ??= ctx;
      for (const n of chain.serverNames) {
        if (n.startsWith('*.')) out.wildcards.push({ suffix: n.slice(1), context: ctx });
        else if (!out.exact.has(n)) out.exact.set(n, ctx);
      }
    }
    out.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    return { ...out, any };
  }
}
