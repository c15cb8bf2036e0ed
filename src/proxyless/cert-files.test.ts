import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { agentFiles } from './bootstrap-file.js';
import { CertFiles } from './cert-files.js';

/** A self-signed P-256 certificate and its key (the test needs a pair that matches). */
function pair(dir: string, name: string): { chainPem: string; keyPem: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '1'], {
    stdio: 'ignore',
  });
  return { chainPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

test('the certificate and its key go to one owner-only file that TLS reads as both; the roots beside it; a rotation replaces both at once', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-certfiles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = agentFiles(path.join(dir, 'agent'));
  const certs = new CertFiles(files);
  const first = pair(dir, 'first');
  await certs.write({ ...first, rootsPem: first.chainPem });
  assert.ok(certs.written);
  const workload = readFileSync(files.workload);
  assert.equal(statSync(files.workload).mode & 0o777, 0o600);
  assert.equal(statSync(files.certsDir).mode & 0o777, 0o700);
  assert.equal(readFileSync(files.roots, 'utf8'), first.chainPem);
  // What grpc-js does with the file_watcher's reads: the same file as cert and key.
  assert.doesNotThrow(() => tls.createSecureContext({ cert: [workload], key: [workload], ca: readFileSync(files.roots) }));

  const second = pair(dir, 'second');
  await certs.write({ ...second, rootsPem: first.chainPem });
  const rotated = readFileSync(files.workload);
  assert.doesNotThrow(() => tls.createSecureContext({ cert: rotated, key: rotated }));
  assert.match(rotated.toString(), new RegExp(second.keyPem.split('\n')[1]!.replace(/[+/]/g, '.')));
  assert.deepEqual(readdirSync(files.certsDir).sort(), ['roots.pem', 'workload.pem'], 'no temporary file left');

  await certs.removeKey();
  assert.equal(existsSync(files.workload), false);
  assert.equal(existsSync(files.roots), true);
  assert.equal(certs.written, false);
});

test('a directory that cannot be written is an error naming the file', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-certfiles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = agentFiles(dir);
  const certs = new CertFiles({ certsDir: dir, roots: files.roots.replace('/certs/', '/'), workload: path.join(dir, 'missing', 'workload.pem') });
  await assert.rejects(certs.write({ chainPem: 'c', keyPem: 'k', rootsPem: 'r' }), /cannot write .*missing\/workload\.pem: ENOENT/);
});
