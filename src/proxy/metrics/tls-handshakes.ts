// Mesh mTLS handshakes, inbound (MeshTlsAcceptor) and outbound (dialMeshTls): how many
// succeeded and why the others failed, from a small fixed set of reasons so labels stay
// bounded. Counted in plain numbers per (direction, service), read when /metrics is scraped.
import type { Direction } from '../config/runtime-config.js';
import type { Registry } from './prom-client-core.js';
import { scrapeCounter } from './scrape-counter.js';

export type TlsFailureReason = 'no_client_cert' | 'untrusted_chain' | 'expired' | 'wrong_identity' | 'protocol' | 'timeout' | 'no_local_cert' | 'other';

/** The handshake counts of one direction and service (inbound: this proxy; outbound: the endpoint's Service). */
export class TlsHandshakeCounts {
  ok = 0;
  readonly failed: Record<TlsFailureReason, number> = { no_client_cert: 0, untrusted_chain: 0, expired: 0, wrong_identity: 0, protocol: 0, timeout: 0, no_local_cert: 0, other: 0 };
  constructor(
    readonly direction: Direction,
    readonly service: string,
  ) {}
}

/** Counts that go nowhere, for pools and listeners built without metrics (tests, tools). */
export const detachedHandshakeCounts = (direction: Direction): TlsHandshakeCounts => new TlsHandshakeCounts(direction, 'unknown');

const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED']);
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
]);
const NO_CLIENT_CERT = new Set(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);

/** Why a handshake failed, from the error (or verification error code) Node reported. */
export function tlsFailureReason(error: unknown): TlsFailureReason {
  const code = typeof error === 'string' ? error : (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return 'other';
  if (code === 'ERR_TRELLIS_PEER_IDENTITY') return 'wrong_identity';
  if (code === 'ERR_TRELLIS_NO_CERTIFICATE') return 'no_local_cert';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (EXPIRED.has(code)) return 'expired';
  if (UNTRUSTED.has(code)) return 'untrusted_chain';
  if (NO_CLIENT_CERT.has(code)) return 'no_client_cert';
  // Plaintext to a TLS port, a wrong version, a bad record, an unexpected alert.
  if (code.startsWith('ERR_SSL_')) return 'protocol';
  return 'other';
}

/** Registers trellis_tls_handshakes_total, read from `all()` at scrape time. */
export function registerTlsHandshakeMetrics(registry: Registry, all: () => Iterable<TlsHandshakeCounts>): void {
  scrapeCounter(
    registry,
    'trellis_tls_handshakes_total',
    "Mesh mTLS handshakes by direction, service (inbound: this proxy; outbound: the endpoint's Service), result (ok, failed) and, for failures, reason (no_client_cert, untrusted_chain, expired, wrong_identity, protocol, timeout, no_local_cert, other).",
    ['direction', 'service', 'result', 'reason'],
    function* () {
      for (const c of all()) {
        yield [{ direction: c.direction, service: c.service, result: 'ok', reason: '' }, c.ok];
        for (const [reason, n] of Object.entries(c.failed)) yield [{ direction: c.direction, service: c.service, result: 'failed', reason }, n];
      }
    },
  );
}
