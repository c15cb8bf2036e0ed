import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selfSigned, tlsSecretDoc } from './testing/self-signed.js';
import { parseSecret, redactSecret } from './secret.js';
import { assertOk, assertProblem, assertRoundTrip, DELETE, withField } from './problem-assert.js';
import { parseResource } from './parse.js';

const shop = await selfSigned(['shop.example.com']);
const other = await selfSigned(['other.example.com']);
const expired = await selfSigned(['old.example.com'], new Date(Date.now() - 60_000));
const b64 = (s: string) => Buffer.from(s).toString('base64');

const secret = (pair: { cert: string; key: string }) => tlsSecretDoc('shop-cert', 'web', pair);

test('a TLS Secret parses and round-trips; stringData becomes data', () => {
  const s = assertOk(parseSecret(secret(shop)));
  assert.equal(Buffer.from(s.data['tls.crt'], 'base64').toString(), shop.cert);
  assertRoundTrip(parseSecret, s);
  const fromString = assertOk(parseSecret({ ...secret(shop), data: undefined, stringData: { 'tls.crt': shop.cert, 'tls.key': shop.key } }));
  assert.deepEqual(fromString, s);
  assert.equal(assertOk(parseResource(secret(shop))).kind, 'Secret');
});

test('stringData wins over data, as in Kubernetes', () => {
  const s = assertOk(parseSecret({ ...secret(other), stringData: { 'tls.crt': shop.cert, 'tls.key': shop.key } }));
  assert.equal(Buffer.from(s.data['tls.key']!, 'base64').toString(), shop.key);
});

test('a key that is not the certificate’s is refused at data["tls.key"]', () => {
  assertProblem(parseSecret(withField(secret(shop), 'data["tls.key"]', b64(other.key))), 'data["tls.key"]', 'does not match the certificate (CN=shop.example.com)');
});

test('an expired certificate is refused with its notAfter', () => {
  assertProblem(parseSecret(secret(expired)), 'data["tls.crt"]', 'the certificate expired at');
});

test('text that is not PEM is refused, naming which half', () => {
  assertProblem(parseSecret(withField(secret(shop), 'data["tls.crt"]', b64('hello'))), 'data["tls.crt"]', 'is not a PEM certificate');
  assertProblem(parseSecret(withField(secret(shop), 'data["tls.key"]', b64('hello'))), 'data["tls.key"]', 'is not a PEM private key');
  const broken = shop.cert.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA');
  assertProblem(
    parseSecret({ ...secret(shop), data: undefined, stringData: { 'tls.crt': broken, 'tls.key': shop.key } }),
    'stringData["tls.crt"]',
    'certificate 1 of 1 is not a valid X.509 certificate',
  );
});

test('a chain whose second certificate did not issue the first is refused', () => {
  assertProblem(parseSecret(withField(secret(shop), 'data["tls.crt"]', b64(shop.cert + other.cert))), 'data["tls.crt"]', 'certificate 2 did not issue certificate 1');
});

const invalid: [string, string, unknown, string][] = [
  ['another type', 'type', 'Opaque', 'must be "kubernetes.io/tls"'],
  ['no key', 'data["tls.key"]', DELETE, 'required: the PEM private key'],
  ['no certificate', 'data["tls.crt"]', DELETE, 'required: the PEM certificate chain'],
  ['data that is not base64', 'data["tls.crt"]', '-----BEGIN', 'must be base64'],
  ['another data key', 'data.password', 'eA==', 'unknown field "password"'],
  ['ca.crt', 'data["ca.crt"]', 'eA==', 'not supported: client certificate checks'],
  ['apiVersion v2', 'apiVersion', 'v2', 'must be "v1" for kind Secret'],
];
for (const [name, path, value, fragment] of invalid) {
  test(`a Secret with ${name} is refused at ${path}`, () => assertProblem(parseSecret(withField(secret(shop), path, value)), path, fragment));
}

test('redactSecret keeps the certificate and drops the key', () => {
  const s = redactSecret(assertOk(parseSecret(secret(shop))));
  assert.deepEqual(Object.keys(s.data), ['tls.crt']);
  assert.ok(!JSON.stringify(s).includes(b64(shop.key)));
});
