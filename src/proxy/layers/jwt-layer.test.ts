// The JWT layer with a fake next: no token passes unauthenticated (client-set claim headers
// dropped); a good token passes with ctx.jwt, its claim headers and the token removed upstream;
// a bad one is a 401 with a challenge naming why; a required token missing is a 401; a token
// from a query parameter is taken off the path; a repeated token is answered from the cache at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONWebKeySet } from 'jose';
import type { JwtConfig, JwtProviderConfig } from '../config/jwt-config.js';
import { fakeRequest, NextRecorder } from '../testing/http-fakes.js';
import { jwksOf, sign, testKey, type TestKey } from '../testing/jwt-keys.js';
import { jwtLayer } from './jwt-layer.js';

const ISS = 'https://id.example.com';

function config(key: TestKey, over: Partial<JwtProviderConfig> = {}, allowMissing = true): JwtConfig {
  const jwks = JSON.parse(jwksOf(key)) as JSONWebKeySet;
  const p: JwtProviderConfig = {
    name: 'p',
    issuer: ISS,
    audiences: ['shop'],
    keys: jwks,
    keyCount: 1,
    fromHeaders: [{ name: 'authorization', prefix: 'Bearer ' }],
    fromParams: ['access_token'],
    claimToHeaders: [
      ['x-group', 'group'],
      ['x-roles', 'roles'],
    ],
    forward: false,
    clockSkewSeconds: 60,
    removedHeaders: new Set(['authorization', 'x-group', 'x-roles']),
    ...over,
  };
  return { providers: [p], allowMissing, claimHeaders: new Set(['x-group', 'x-roles']), source: 'test' };
}

/** Runs the layer; resolves once it called next or answered (bounded: verification is asynchronous). */
async function run(jwt: JwtConfig, o: { headers?: Record<string, string>; path?: string } = {}) {
  const next = new NextRecorder();
  const r = fakeRequest({ listener: { direction: 'inbound', name: 'inbound-http', jwt }, ...o });
  jwtLayer.request(r.ctx, next.handler);
  const sync = next.calls.length + r.down.responses.length > 0;
  for (let i = 0; i < 10_000 && next.calls.length + r.down.responses.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
  return { ...r, passed: next.calls.length === 1, sync };
}

test('no token: the request passes unauthenticated, and a client-set claim header does not reach the app', async () => {
  const key = await testKey('ES256', 'k');
  const { ctx, passed, sync } = await run(config(key), { headers: { 'x-group': 'admins' } });
  assert.equal(passed, true);
  assert.equal(sync, true);
  assert.equal(ctx.jwt, undefined);
  assert.deepEqual([...ctx.upstreamEdit!.removed], ['x-group', 'x-roles']);
  assert.deepEqual(ctx.upstreamEdit!.added, []);
});

test('a good token: ctx.jwt with the principal, claims copied to headers, the token removed; the same token again is answered at once', async () => {
  const key = await testKey('ES256', 'k');
  const jwt = config(key);
  const token = await sign(key, { iss: ISS, sub: 'alice', aud: 'shop', group: 'admins', roles: ['a', 'b'] });
  const first = await run(jwt, { headers: { authorization: `Bearer ${token}`, 'x-group': 'forged' } });
  assert.equal(first.passed, true);
  assert.equal(first.sync, false, 'the first time is verified asynchronously');
  assert.equal(first.ctx.jwt?.principal, `${ISS}/alice`);
  assert.deepEqual(first.ctx.upstreamEdit?.added, ['x-group', 'admins', 'x-roles', 'a,b']);
  assert.ok(first.ctx.upstreamEdit?.removed.has('authorization'));
  assert.ok(first.ctx.upstreamEdit?.removed.has('x-group'));
  const again = await run(jwt, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(again.passed, true);
  assert.equal(again.sync, true, 'a repeated token is answered from the cache in the same turn');
  assert.equal(again.ctx.jwt?.principal, `${ISS}/alice`);
});

test('a bad token is a 401 UNAUTHENTICATED with a Bearer challenge and the reason, and goes no further', async () => {
  const key = await testKey('ES256', 'k');
  const now = Math.floor(Date.now() / 1000);
  const expired = await sign(key, { iss: ISS, sub: 'a', aud: 'shop', exp: now - 3600 });
  const jwt = config(key);
  const r = await run(jwt, { headers: { authorization: `Bearer ${expired}` } });
  assert.equal(r.passed, false);
  assert.equal(r.down.response?.status, 401);
  assert.equal(r.down.response?.headers['x-trellis-error'], 'UNAUTHENTICATED');
  assert.equal(r.down.response?.headers['www-authenticate'], 'Bearer error="invalid_token"');
  assert.equal(r.down.response?.body, 'unauthenticated: token expired (exp)\n');
  const again = await run(jwt, { headers: { authorization: `Bearer ${expired}` } });
  assert.equal(again.sync, true, 'the same bad token again is refused from the cache in the same turn');
  assert.equal(again.down.response?.status, 401);
  assert.equal(again.down.response?.body, 'unauthenticated: token expired (exp)\n');
});

test('a listener that requires a token answers 401 without one', async () => {
  const key = await testKey('ES256', 'k');
  const r = await run(config(key, {}, false));
  assert.equal(r.passed, false);
  assert.equal(r.down.response?.status, 401);
  assert.equal(r.down.response?.headers['www-authenticate'], 'Bearer');
});

test('a token in a query parameter is verified and taken off the path unless forwarded', async () => {
  const key = await testKey('RS256', 'r');
  const token = await sign(key, { iss: ISS, sub: 'bob', aud: 'shop' });
  const taken = await run(config(key), { path: `/items?a=1&access_token=${token}&b=2` });
  assert.equal(taken.passed, true);
  assert.equal(taken.ctx.path, '/items?a=1&b=2');
  const kept = await run(config(key, { forward: true, removedHeaders: new Set() }), { path: `/items?access_token=${token}` });
  assert.equal(kept.passed, true);
  assert.equal(kept.ctx.path, `/items?access_token=${token}`);
});

test('a listener without a JWT config passes straight through', async () => {
  const next = new NextRecorder();
  const r = fakeRequest({ listener: { direction: 'inbound' }, headers: { authorization: 'Bearer x' } });
  jwtLayer.request(r.ctx, next.handler);
  assert.equal(next.calls.length, 1);
  assert.equal(r.ctx.upstreamEdit, undefined);
});
