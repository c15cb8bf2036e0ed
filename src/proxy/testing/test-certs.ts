// Certificates for TLS unit tests: a throwaway CA and leaf certificates with a SPIFFE ID, made
// in memory, and a fixed TlsSource built from one of them (the proxy's identity without xDS).
import tls from 'node:tls';
import { generateKeyPair, P256, privateKeyPem, x509Lib } from '../../common/x509.js';
import type { TlsSource } from '../identity/proxy-identity.js';

export interface TestCa {
  readonly certPem: string;
  /** A key and chain for `spiffeId`, valid from `notBefore` to `notAfter` (default: an hour around now). */
  issue(spiffeId: string, validity?: { notBefore?: Date; notAfter?: Date }): Promise<{ key: string; cert: string }>;
}

/**
 * Runs `make` holding the event loop open: webcrypto jobs do not, so a test file awaiting only
 * them at the top level ends before its tests run.
 */
async function holdingLoop<T>(make: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  try {
    return await make();
  } finally {
    clearInterval(hold);
  }
}

export function testCa(name = 'test root'): Promise<TestCa> {
  return holdingLoop(() => makeCa(name));
}

async function makeCa(name: string): Promise<TestCa> {
  const x509 = await x509Lib();
  const keys = await generateKeyPair();
  const now = Date.now();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 86400_000),
    keys,
    signingAlgorithm: P256,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  let serial = 1;
  return {
    certPem: root.toString('pem'),
    issue: (spiffeId, validity = {}) =>
      holdingLoop(async () => {
        const leafKeys = await generateKeyPair();
        const leaf = await x509.X509CertificateGenerator.create({
          serialNumber: (++serial).toString(16).padStart(2, '0'),
          subject: '',
          issuer: root.subject,
          notBefore: validity.notBefore ?? new Date(Date.now() - 3600_000),
          notAfter: validity.notAfter ?? new Date(Date.now() + 3600_000),
          signingKey: keys.privateKey,
          publicKey: leafKeys.publicKey,
          signingAlgorithm: P256,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
            new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
          ],
        });
        return { key: await privateKeyPem(leafKeys.privateKey), cert: leaf.toString('pem') };
      }),
  };
}

/** A TlsSource with one fixed key and certificate, trusting `caPem`. */
export function staticTlsSource(id: { key: string; cert: string }, caPem: string): TlsSource {
  const options: tls.SecureContextOptions = { key: id.key, cert: id.cert, ca: caPem, minVersion: 'TLSv1.2' };
  const context = tls.createSecureContext(options);
  return { context: () => context, contextOptions: () => options, generation: 1 };
}
