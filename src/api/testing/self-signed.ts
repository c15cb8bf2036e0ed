// Test support: a self-signed certificate and key for DNS names, made in memory, for TLS Secrets in unit tests.
import { generateKeyPair, P256, privateKeyPem, x509Lib } from '../../common/x509.js';

const HOUR = 3600_000;

/** A self-signed certificate for `dnsNames` (the first is the CN) and its PEM key, valid from an hour ago until `notAfter`. */
export async function selfSigned(dnsNames: string[], notAfter = new Date(Date.now() + HOUR)): Promise<{ cert: string; key: string }> {
  // webcrypto jobs do not hold the event loop open: a test file awaiting only them at the top level would end first.
  const hold = setInterval(() => {}, 1000);
  try {
    const x509 = await x509Lib();
    const keys = await generateKeyPair();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0a',
      name: `CN=${dnsNames[0]}`,
      notBefore: new Date(Date.now() - HOUR),
      notAfter,
      keys,
      signingAlgorithm: P256,
      extensions: [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))],
    });
    return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
  } finally {
    clearInterval(hold);
  }
}

/** A raw TLS Secret document holding `pair`. */
export const tlsSecretDoc = (name: string, namespace: string, pair: { cert: string; key: string }) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
});
