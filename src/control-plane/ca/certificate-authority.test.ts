import assert from 'node:assert/strict';
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { generateKeyPair, P256, privateKeyPem, x509Lib } from '../../common/x509.js';

const x509 = await x509Lib();
import { CertificateAuthority } from './certificate-authority.js';

const tmp = (t: TestContext) => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'trellis-ca-test-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
};
const ID = 'spiffe://trellis.local/ns/default/sa/web';

async function csr(sans: string[] = []): Promise<string> {
  const keys = await generateKeyPair();
  const ext = sans.length ? [new x509.SubjectAlternativeNameExtension(sans.map((value) => ({ type: 'url' as const, value })))] : [];
  return (await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: P256, name: 'CN=asks-for-anything', extensions: ext })).toString('pem');
}

test('a generated root is kept with an owner-only key and signs workload certificates for the given SPIFFE ID only', async (t) => {
  const dir = tmp(t);
  const ca = await CertificateAuthority.open({ dir, trustDomain: 'trellis.local', workloadTtlSeconds: 3600 });
  assert.equal(statSync(path.join(dir, 'signing-key.pem')).mode & 0o777, 0o600);
  const issued = await ca.issue(await csr(['spiffe://trellis.local/ns/default/sa/admin']), ID);
  assert.ok(issued.ok);
  const leaf = new X509Certificate(issued.value.certificateChainPem);
  assert.equal(leaf.subjectAltName, `URI:${ID}`, 'the CSR asked for another identity; the CA ignored it');
  assert.equal(leaf.ca, false);
  const root = new X509Certificate(ca.trustBundlePem());
  assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey));
  const life = Date.parse(leaf.validTo) - Date.now();
  assert.ok(life > 3500e3 && life <= 3600e3, `1 h lifetime, got ${life}`);
  // Reopening reads the same root.
  const again = await CertificateAuthority.open({ dir, trustDomain: 'trellis.local' });
  assert.equal(again.trustBundlePem(), ca.trustBundlePem());
});

test('a key file others can read is refused at open', async (t) => {
  const dir = tmp(t);
  await CertificateAuthority.open({ dir, trustDomain: 'trellis.local' });
  chmodSync(path.join(dir, 'signing-key.pem'), 0o644);
  await assert.rejects(CertificateAuthority.open({ dir, trustDomain: 'trellis.local' }), /must be readable by its owner only \(mode 0600\), got 644/);
});

test('CSRs that are not P-256, not PEM, or not signed by their key are refused with the reason', async (t) => {
  const ca = await CertificateAuthority.open({ dir: tmp(t), trustDomain: 'trellis.local' });
  const rsaAlg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const rsa = await webcrypto.subtle.generateKey(rsaAlg, true, ['sign', 'verify']);
  const rsaCsr = (await x509.Pkcs10CertificateRequestGenerator.create({ keys: rsa, signingAlgorithm: rsaAlg, name: 'CN=x' })).toString('pem');
  const r1 = await ca.issue(rsaCsr, ID);
  assert.ok(!r1.ok && /must be ECDSA P-256, got RSASSA-PKCS1-v1_5/.test(r1.error.message), JSON.stringify(r1));
  const r2 = await ca.issue('not a csr', ID);
  assert.ok(!r2.ok && r2.error.code === 'CSR_INVALID');
});

test('rotation trusts old and new roots during the overlap, and only the new one after', async (t) => {
  let now = Date.now();
  const ca = await CertificateAuthority.open({ dir: tmp(t), trustDomain: 'trellis.local', now: () => now });
  const first = ca.trustBundlePem();
  let changes = 0;
  ca.onBundleChange(() => changes++);
  const r = await ca.rotate(3600);
  assert.ok(r.ok);
  assert.equal(r.value.roots.length, 2);
  assert.equal(changes, 1);
  assert.ok(ca.trustBundlePem().endsWith(first), 'the old root is still trusted, after the new one');
  const issued = await ca.issue(await csr(), ID);
  assert.ok(issued.ok);
  const newRoot = new X509Certificate(ca.trustBundlePem().slice(0, ca.trustBundlePem().indexOf(first)));
  assert.ok(new X509Certificate(issued.value.certificateChainPem).checkIssued(newRoot), 'new certificates come from the new root');
  now += 3601e3;
  assert.equal(ca.trustBundlePem().includes(first), false, 'the old root is no longer trusted after the overlap');
});

test('an operator intermediate with its chain signs; certificates carry the intermediate for peers', async (t) => {
  const dir = tmp(t);
  const rootKeys = await generateKeyPair();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Org Root',
    notBefore: new Date(Date.now() - 60e3),
    notAfter: new Date(Date.now() + 86400e3 * 30),
    keys: rootKeys,
    signingAlgorithm: P256,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const interKeys = await generateKeyPair();
  const inter = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=Mesh Intermediate',
    issuer: root.subject,
    notBefore: new Date(Date.now() - 60e3),
    notAfter: new Date(Date.now() + 86400e3 * 10),
    signingKey: rootKeys.privateKey,
    publicKey: interKeys.publicKey,
    signingAlgorithm: P256,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const files = path.join(dir, 'in');
  const certFile = `${files}-cert.pem`,
    keyFile = `${files}-key.pem`,
    chainFile = `${files}-chain.pem`;
  writeFileSync(certFile, inter.toString('pem'));
  writeFileSync(keyFile, await privateKeyPem(interKeys.privateKey));
  writeFileSync(chainFile, root.toString('pem'));
  const ca = await CertificateAuthority.open({ dir: path.join(dir, 'ca'), trustDomain: 'trellis.local', supplied: { certFile, keyFile, chainFile } });
  assert.equal(new X509Certificate(ca.trustBundlePem()).subject, 'CN=Org Root');
  const issued = await ca.issue(await csr(), ID);
  assert.ok(issued.ok);
  assert.equal((issued.value.certificateChainPem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'leaf and intermediate');
  // The wrong key for the certificate is refused.
  writeFileSync(keyFile, await privateKeyPem((await generateKeyPair()).privateKey));
  await assert.rejects(CertificateAuthority.open({ dir: path.join(dir, 'ca2'), trustDomain: 'trellis.local', supplied: { certFile, keyFile, chainFile } }), /is not the key of/);
  // An intermediate without its chain is refused.
  writeFileSync(keyFile, await privateKeyPem(interKeys.privateKey));
  await assert.rejects(
    CertificateAuthority.open({ dir: path.join(dir, 'ca3'), trustDomain: 'trellis.local', supplied: { certFile, keyFile } }),
    /is an intermediate: give its chain/,
  );
});
