import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair, P256, summarise, x509Lib } from './x509.js';

const x509 = await x509Lib();

async function selfSigned(name: string): Promise<string> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    keys,
    signingAlgorithm: P256,
    name,
    notBefore: new Date(Date.UTC(2026, 0, 1)),
    notAfter: new Date(Date.UTC(2026, 0, 2)),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://trellis.local/ns/default/sa/web' }])],
  });
  return cert.toString('pem');
}

test('regression issue 12: a certificate with an empty subject and issuer (a SPIFFE workload certificate) is summarised', async () => {
  const s = summarise(await selfSigned(''));
  assert.equal(s.subject, '');
  assert.equal(s.issuer, '');
  assert.deepEqual(s.uris, ['spiffe://trellis.local/ns/default/sa/web']);
  assert.equal(s.notAfter, '2026-01-02T00:00:00.000Z');
});

test('a multi-part distinguished name is shown on one line', async () => {
  const s = summarise(await selfSigned('O=Trellis, CN=root'));
  assert.equal(s.subject, 'O=Trellis, CN=root');
  assert.equal(s.issuer, s.subject);
});
