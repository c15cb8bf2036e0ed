// ECDSA P-256 keys, CSRs and certificates through @peculiar/x509 on Node's webcrypto: the one
// place both planes create and read X.509 objects. The library is loaded on first use (it costs
// ~0.2 s of CPU to load), so CLI commands that never make a certificate do not pay for it.
import { createHash, createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';

/** The @peculiar/x509 module. */
export type X509 = typeof import('@peculiar/x509');
let loaded: Promise<X509> | undefined;

/** @peculiar/x509, set up on Node's webcrypto (it needs the reflect-metadata polyfill first). */
export function x509Lib(): Promise<X509> {
  loaded ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return loaded;
}

/** A WebCrypto key (Node's). */
export type Key = webcrypto.CryptoKey;
export type KeyPair = webcrypto.CryptoKeyPair;

/** The only key algorithm Trellis issues and accepts: ECDSA on P-256 with SHA-256. */
export const P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A fresh P-256 key pair (extractable, so it can be written as PEM). */
export function generateKeyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(P256, true, ['sign', 'verify']);
}

/** The private key as PKCS#8 PEM. */
export async function privateKeyPem(key: Key): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Imports a PKCS#8 or SEC1 PEM P-256 private key; throws with the reason when it is not one. */
export async function importPrivateKeyPem(pem: string): Promise<Key> {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`the key must be ECDSA P-256, got ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, P256, true, ['sign']);
}

/** The PEM blocks of `text` (certificates of a bundle or chain), in order. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((b) => b + '\n') ?? [];
}

/** What an operator wants to see of a certificate. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** URI SANs (SPIFFE IDs). */
  uris: string[];
  isCa: boolean;
  sha256: string;
}

/** Summarises one PEM certificate; throws when it is not a certificate. */
export function summarise(pem: string): CertificateSummary {
  const c = new X509Certificate(pem);
  return {
    subject: distinguishedName(c.subject),
    issuer: distinguishedName(c.issuer),
    serial: c.serialNumber,
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    uris: uriSans(c.subjectAltName),
    isCa: c.ca,
    sha256: createHash('sha256').update(c.raw).digest('hex'),
  };
}

/**
 * A Node.js distinguished name on one line. Node gives `undefined`, whatever its typings say,
 * for an empty name: the subject of every SPIFFE workload certificate, which names itself by its URI SAN.
 */
function distinguishedName(name: string | undefined): string {
  return name?.replace(/\n/g, ', ') ?? '';
}

/** The URI entries of a Node.js `subjectaltname` string (`URI:spiffe://..., DNS:x`). */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(/,\s*/)
    .filter((e) => e.startsWith('URI:'))
    .map((e) => e.slice(4));
}
