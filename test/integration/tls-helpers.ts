// Certificates and TLS clients for the security tests: keys and CSRs made here, signed by the
// control plane's own CA files (or a foreign CA), and a real TLS client that speaks HTTP/1.1.
import net from 'node:net';
import path from 'node:path';
import https from 'node:https';
import type tls from 'node:tls';
import { CertificateAuthority } from '../../src/control-plane/ca/index.js';

const x509 = await x509Lib();
import { generateKeyPair, P256, privateKeyPem, x509Lib } from '../../src/common/x509.js';

export interface KeyAndCert {
  key: string;
  cert: string;
}

/** A fresh key and a certificate for `spiffeId` signed by the CA in `caDir` (at time `now`, for `ttlSeconds`). */
export async function issueCert(caDir: string, spiffeId: string, opts: { now?: number; ttlSeconds?: number } = {}): Promise<KeyAndCert> {
  const ca = await CertificateAuthority.open({ dir: caDir, trustDomain: 'trellis.local', ...(opts.now !== undefined ? { now: () => opts.now! } : {}) });
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: P256, name: '' });
  const issued = await ca.issue(csr.toString('pem'), spiffeId, opts.ttlSeconds);
  if (!issued.ok) throw new Error(issued.error.message);
  return { key: await privateKeyPem(keys.privateKey), cert: issued.value.certificateChainPem };
}

/** The trust bundle of the control plane whose data dir is `dataDir`. */
export async function trustBundle(dataDir: string): Promise<string> {
  return (await CertificateAuthority.open({ dir: path.join(dataDir, 'ca'), trustDomain: 'trellis.local' })).trustBundlePem();
}

/**
 * GET `pathname` over mTLS (HTTP/1.1 on node:https) to 127.0.0.1:port with `client` (no client
 * certificate when undefined), trusting `ca`; resolves with the status and body, or
 * `refused: reason` when the connection fails or closes without an answer.
 */
export function tlsGet(port: number, client: KeyAndCert | undefined, ca: string, pathname = '/'): Promise<{ status?: number; body?: string; refused?: string; peer?: string }> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: pathname, ca, ...(client ?? {}), agent: false, checkServerIdentity: () => undefined, timeout: 5000 }, (res) => {
      let body = '';
      const peer = (res.socket as tls.TLSSocket).getPeerCertificate().subjectaltname;
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, ...(peer ? { peer } : {}) }));
      res.on('error', (e) => resolve({ refused: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e) => resolve({ refused: e.message }));
  });
}

/** Plain TCP: sends an HTTP request and answers what came back before the server closed. */
export function plaintext(port: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
    s.on('data', (c: Buffer) => (data += c.toString()));
    s.on('error', () => resolve(data));
    s.on('close', () => resolve(data));
    setTimeout(() => {
      s.destroy();
      resolve(data);
    }, 5000).unref();
  });
}
