// The verifier: good RS256 and ES256 tokens pass with their principal; each kind of bad token
// fails with its reason; a verified token is answered from the cache until it expires, and the
// cache holds at most its bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONWebKeySet } from 'jose';
import type { JwtConfig, JwtProviderConfig } from '../config/jwt-config.js';
import { jwksOf, sign, testKey } from '../testing/jwt-keys.js';
import { JwtVerifier } from './jwt-verifier.js';

const ISS = 'https://id.example.com';

function config(jwks: string, over: Partial<JwtProviderConfig> = {}): JwtConfig {
  const provider: JwtProviderConfig = {
    name: 'default/users/jwtRules[0]',
    issuer: ISS,
    audiences: ['shop'],
    keys: JSON.parse(jwks) as JSONWebKeySet,
    keyCount: JSON.parse(jwks).keys.length,
    fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }],
    fromParams: [],
    claimToHeaders: [],
    forward: false,
    clockSkewSeconds: 60,
    removedHeaders: new Set(['authorization']),
    ...over,
  };
  return { providers: [provider], allowMissing: true, claimHeaders: new Set(), source: 'test' };
}

test('good RS256 and ES256 tokens pass with the principal iss/sub', async () => {
  const rs = await testKey('RS256', 'rs');
  const es = await testKey('ES256', 'es');
  const v = new JwtVerifier(config(jwksOf(rs, es)));
  for (const key of [rs, es]) {
    const r = await v.verify(await sign(key, { iss: ISS, sub: `user-${key.kid}`, aud: 'shop', group: 'admins' }));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.jwt.principal, `${ISS}/user-${key.kid}`);
    assert.equal(r.jwt.payload.group, 'admins');
  }
});

test('each bad token fails with its reason', async () => {
  const good = await testKey('ES256', 'good');
  const other = await testKey('ES256', 'other');
  const v = new JwtVerifier(config(jwksOf(good)));
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, Promise<string> | string, RegExp][] = [
    ['expired beyond the skew', sign(good, { iss: ISS, sub: 's', aud: 'shop', exp: now - 120 }), /^token expired \(exp\)$/],
    ['not yet valid', sign(good, { iss: ISS, sub: 's', aud: 'shop', nbf: now + 600 }), /^token not yet valid \(nbf\)$/],
    ['wrong issuer', sign(good, { iss: 'https://evil.example.com', sub: 's', aud: 'shop' }), /issuer "https:\/\/evil.example.com" is not accepted here/],
    ['wrong audience', sign(good, { iss: ISS, sub: 's', aud: 'billing' }), /^audience not accepted \(aud\)$/],
    ['signed by an unknown key, with a known kid', sign(other, { iss: ISS, sub: 's', aud: 'shop' }, { kid: 'good' }), /^signature verification failed$/],
    ['unknown kid', sign(other, { iss: ISS, sub: 's', aud: 'shop' }), /no key of the issuer matches the token's kid and alg/],
    ['malformed', 'not.a-token', /^malformed token/],
  ];
  for (const [what, token, reason] of cases) {
    const r = await v.verify(await token);
    assert.equal(r.ok, false, what);
    if (!r.ok) assert.match(r.reason, reason, what);
  }
  assert.equal(v.size, 0, 'nothing failed is kept as verified');
});

test('a failed token is refused from the cache for a minute, then checked again', async () => {
  const key = await testKey('ES256', 'k');
  let now = Date.now();
  const v = new JwtVerifier(config(jwksOf(key)), 10, () => now);
  const early = await sign(key, { iss: ISS, sub: 's', aud: 'shop', nbf: Math.floor(now / 1000) + 90 });
  assert.equal(v.failedBefore(early), undefined);
  assert.equal((await v.verify(early)).ok, false);
  assert.equal(v.failedBefore(early), 'token not yet valid (nbf)');
  now += 59_000;
  assert.equal(v.failedBefore(early), 'token not yet valid (nbf)');
  now += 2000;
  assert.equal(v.failedBefore(early), undefined, 'checked again after a minute');
  assert.equal((await v.verify(early)).ok, true, 'and now within the skew of its nbf');
});

test('an expiry within the clock skew still passes', async () => {
  const key = await testKey('ES256', 'k');
  const r = await new JwtVerifier(config(jwksOf(key))).verify(await sign(key, { iss: ISS, sub: 's', aud: 'shop', exp: Math.floor(Date.now() / 1000) - 10 }));
  assert.equal(r.ok, true);
});

test('a provider whose keys never came refuses every token, naming why', async () => {
  const key = await testKey('ES256', 'k');
  const r = await new JwtVerifier(config('{"keys":[]}')).verify(await sign(key, { iss: ISS, sub: 's', aud: 'shop' }));
  assert.deepEqual(r, { ok: false, reason: `no keys of issuer ${ISS} are available (its JWKS was never fetched)` });
});

test('the cache answers for a verified token until its exp (plus skew), and holds at most its bound', async () => {
  const key = await testKey('ES256', 'k');
  let now = Date.now();
  const v = new JwtVerifier(config(jwksOf(key)), 2, () => now);
  const exp = Math.floor(now / 1000) + 30;
  const a = await sign(key, { iss: ISS, sub: 'a', aud: 'shop', exp });
  assert.equal(v.cached(a), undefined);
  assert.equal((await v.verify(a)).ok, true);
  assert.equal(v.cached(a)?.principal, `${ISS}/a`);
  now = (exp + 59) * 1000;
  assert.ok(v.cached(a), 'still within the skew');
  now = (exp + 61) * 1000;
  assert.equal(v.cached(a), undefined, 'gone once expired');
  now = Date.now();
  const tokens = await Promise.all(['b', 'c', 'd'].map((sub) => sign(key, { iss: ISS, sub, aud: 'shop' })));
  for (const t of tokens) assert.equal((await v.verify(t)).ok, true);
  assert.equal(v.size, 2);
  assert.equal(v.cached(tokens[0]!), undefined, 'the oldest went first');
  assert.ok(v.cached(tokens[2]!));
});
