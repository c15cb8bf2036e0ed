// The control plane's own TLS: the REST API and xDS present a certificate from the mesh CA
// (checked with openssl), refuse plaintext, and clients without the trust bundle get a clear
// refusal; after a root rotation the certificate is re-issued under the new root at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cleanup } from './cleanup.js';
import { waitFor } from '../../src/common/wait.js';
import { api, runCli, startControlPlane } from './harness.js';
import { plaintext } from './tls-helpers.js';

/** `openssl s_client` against 127.0.0.1:port verifying with `caFile`; answers what it printed. */
function sClient(port: number, caFile: string, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile, '-verify_return_error', '-showcerts', ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('error', reject);
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
    p.stdin.end();
  });
}

/** The SAN extension and issuer of the first certificate in s_client's output. */
function leafOf(out: string): Promise<string> {
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
  assert.ok(pem, out);
  return new Promise((resolve) => {
    const p = spawn('openssl', ['x509', '-noout', '-issuer', '-ext', 'subjectAltName'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (c) => (text += c));
    p.on('exit', () => resolve(text));
    p.stdin.end(pem);
  });
}

function emptyDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-nobundle-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the REST API and xDS present the control plane's mesh certificate over TLS and refuse plaintext", { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  const apiPort = Number(new URL(cp.apiUrl).port);
  const xdsPort = Number(cp.xdsAddress.split(':')[1]);
  for (const [port, extra] of [
    [apiPort, []],
    [xdsPort, ['-alpn', 'h2']],
  ] as const) {
    const out = await sClient(port, cp.caFile, [...extra]);
    assert.match(out, /Verify return code: 0 \(ok\)/, out);
    assert.match(out, /Protocol\s*:\s*TLSv1\.3|New, TLSv1\.3/, out);
    const leaf = await leafOf(out);
    assert.match(leaf, /URI:spiffe:\/\/trellis\.local\/ns\/trellis-system\/sa\/control-plane/);
    assert.match(leaf, /IP Address:127\.0\.0\.1/);
    if (port === xdsPort) assert.match(out, /ALPN protocol: h2/);
  }
  assert.doesNotMatch(await plaintext(apiPort), /^HTTP\//, 'the API answered plaintext HTTP');

  // A CLI without the bundle, or with another mesh's, is refused with what to do.
  const other = await startControlPlane(t);
  const noBundle = { TRELLIS_CONTROL_PLANE: cp.apiUrl, TRELLIS_TOKEN: cp.token, TRELLIS_CA_FILE: '', TRELLIS_DATA_DIR: emptyDir(t) };
  for (const env of [noBundle, { ...noBundle, TRELLIS_CA_FILE: other.caFile }]) {
    const r = await runCli(['get', 'services'], env);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /cannot reach the control plane at https:\/\/127\.0\.0\.1:\d+: its certificate is not trusted \(\w+\); pass --ca-file/);
  }
  assert.equal((await runCli(['get', 'services'], { ...noBundle, TRELLIS_CA_FILE: cp.caFile })).code, 0);

  // A proxy with a TCP xDS address and no bundle does not start, and says why.
  const proxy = await runCli(['proxy', '--service', 'web', '--xds-address', cp.xdsAddress, '--admin-port', '0', '--join-token', 'x'], {
    TRELLIS_CA_FILE: '',
    TRELLIS_DATA_DIR: noBundle.TRELLIS_DATA_DIR,
  });
  assert.equal(proxy.code, 1);
  assert.match(proxy.stderr, /serves xDS at 127\.0\.0\.1:\d+ over TLS: give the proxy the mesh trust bundle \(--ca-file/);
});

test("after a root rotation the control plane's certificate is re-issued under the new root, and the bundle file holds both", { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  const apiPort = Number(new URL(cp.apiUrl).port);
  const rotated = await api(cp, 'POST', '/api/v1/ca/rotate', { overlap: '1h' });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  const newRoot = String(rotated.body.roots[0].subject).replace(/^.*CN=/, '');
  let leaf = '';
  await waitFor(async () => (leaf = await leafOf(await sClient(apiPort, cp.caFile))).includes(newRoot), 'the API certificate to come from the new root', 10000).catch(
    (e: Error) => {
      throw new Error(`${e.message}; issuer now: ${leaf}; new root: ${newRoot}`);
    },
  );
  assert.equal(readFileSync(cp.caFile, 'utf8').match(/BEGIN CERTIFICATE/g)?.length, 2, 'the old and the new root, during the overlap');
  assert.match(await sClient(apiPort, cp.caFile), /Verify return code: 0 \(ok\)/);
  // The CLI verifies with the rewritten bundle.
  assert.equal((await runCli(['get', 'services'], cp.cliEnv)).code, 0);
});
