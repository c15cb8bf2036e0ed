// Checks of a TLS certificate chain and its private key as an operator gives them (PEM): the
// chain parses, the key is the leaf's, the leaf is within its validity period.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { splitPem } from '../common/x509.js';

/** One thing wrong with the pair, naming which half (`tls.crt` or `tls.key`). */
export interface KeyPairProblem {
  field: 'tls.crt' | 'tls.key';
  message: string;
}

/** What a valid chain's leaf says, for tables and messages. */
export interface LeafSummary {
  subject: string;
  /** The DNS names of its subjectAltName. */
  dnsNames: string[];
  notAfter: Date;
}

/** The DNS names of a certificate's subjectAltName (`DNS:a.example.com, DNS:*.example.com`). */
export function dnsNamesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
}

/**
 * Every problem of a PEM chain (leaf first) and key, or none; `now` decides expiry. A
 * problem with the chain stops the key checks, which need its leaf.
 */
export function checkKeyPair(certPem: string, keyPem: string, now: Date): { problems: KeyPairProblem[]; leaf?: LeafSummary } {
  const problems: KeyPairProblem[] = [];
  const blocks = splitPem(certPem);
  if (blocks.length === 0) return { problems: [{ field: 'tls.crt', message: 'is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)' }] };
  const chain: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(block));
    } catch (e) {
      problems.push({ field: 'tls.crt', message: `certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate: ${(e as Error).message}` });
    }
  }
  if (problems.length > 0) return { problems };
  const leaf = chain[0]!;
  const summary: LeafSummary = { subject: leaf.subject.replace(/\n/g, ', '), dnsNames: dnsNamesOf(leaf), notAfter: new Date(leaf.validTo) };
  if (summary.notAfter.getTime() <= now.getTime()) problems.push({ field: 'tls.crt', message: `the certificate expired at ${summary.notAfter.toISOString()}` });
  const notBefore = new Date(leaf.validFrom);
  if (notBefore.getTime() > now.getTime()) problems.push({ field: 'tls.crt', message: `the certificate is not valid before ${notBefore.toISOString()}` });
  // Each certificate after the leaf must have signed the one before it, or clients cannot build the path.
  for (let i = 1; i < chain.length; i++) {
    if (!chain[i - 1]!.checkIssued(chain[i]!))
      problems.push({ field: 'tls.crt', message: `certificate ${i + 1} did not issue certificate ${i}: the chain must be the leaf first, then each issuer` });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    problems.push({ field: 'tls.key', message: `is not a PEM private key: ${(e as Error).message}` });
    return { problems, leaf: summary };
  }
  if (!leaf.checkPrivateKey(key)) problems.push({ field: 'tls.key', message: `does not match the certificate (${summary.subject}): it is the key of another certificate` });
  return { problems, leaf: summary };
}
