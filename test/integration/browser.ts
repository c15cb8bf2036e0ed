// What the browser tests share: Debian's Chromium, and the pin that makes it trust exactly the
// dashboard's certificate key (the mesh root is not in its store).
import { createHash, type X509Certificate } from 'node:crypto';
import tls from 'node:tls';

export const CHROMIUM = '/usr/bin/chromium';

/** Base64 SHA-256 of the public key the server on `port` presents (Chromium's SPKI pin format). */
export async function spkiHash(port: number): Promise<string> {
  const cert = await new Promise<X509Certificate>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!);
      socket.end();
    });
    socket.on('error', reject);
  });
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}
