// What the browser tests share: Debian's Chromium, and the pin that makes it trust exactly the
// dashboard's certificate key (the mesh root is not in its store).
import { createHash, type X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import tls from 'node:tls';
import { chromium, type BrowserContext } from 'playwright-core';
import { cleanup } from './cleanup.js';

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

/**
 * A headless Chromium (its own profile) trusting exactly the key of the server on `apiPort`;
 * closed (bounded) and its profile removed when the test ends, even when it fails.
 */
export async function launchChromium(t: TestContext, apiPort: number, viewport?: { width: number; height: number }): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'trellis-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${await spkiHash(apiPort)}`,
    ],
    ...(viewport ? { viewport } : {}),
  });
  // Close the browser (bounded), then remove its profile, which it writes to until it is closed.
  cleanup(t, async () => {
    await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 15_000).unref())]);
    rmSync(profile, { recursive: true, force: true });
  });
  return browser;
}
