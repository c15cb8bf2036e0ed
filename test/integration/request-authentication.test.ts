// Request authentication with real processes: a control plane, a caller's sidecar and a server's
// sidecar in front of the echo app, tokens minted here with jose (RS256 and ES256 keys made here).
// Valid tokens reach the app with their claim header and without the token; expired, wrong
// issuer, wrong audience, bad signature are 401; a policy requiring a principal refuses a missing
// token with 403; a `when` on a claim lets one group in and not another; keys from a URL (served
// here) are fetched by the control plane and, after a rotation on that server, refreshed.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { jwksOf, sign, testKey, type TestKey } from '../../src/proxy/testing/jwt-keys.js';
import { cleanup } from './cleanup.js';
import { applyResources, get, httpService, startControlPlane, startWorkload } from './harness.js';

const ISS = 'https://id.example.test';
const ISS_URL = 'https://rotating.example.test';

const requestAuthentication = (name: string, jwtRules: unknown[]) => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'RequestAuthentication',
  metadata: { name, namespace: 'default' },
  spec: { targetRef: { kind: 'Service', name: 'web' }, jwtRules },
});
const policy = (name: string, rules: unknown[]) => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'default' },
  spec: { targetRef: { kind: 'Service', name: 'web' }, action: 'ALLOW', rules },
});

/** A JWKS endpoint on loopback whose keys the test replaces. */
async function jwksServer(t: Parameters<typeof startControlPlane>[0], initial: TestKey): Promise<{ url: string; rotate(key: TestKey): void; hits(): number }> {
  let body = jwksOf(initial);
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, rotate: (key) => void (body = jwksOf(key)), hits: () => hits };
}

test('JWTs at a sidecar: 200 with claims for good tokens, 401 for bad ones, 403 by policy, keys from a URL refreshed after rotation', { timeout: 240_000 }, async (t) => {
  const rs = await testKey('RS256', 'rs-1');
  const es = await testKey('ES256', 'es-1');
  const stranger = await testKey('RS256', 'rs-1'); // same kid as rs, other key: a bad signature
  const urlKeyA = await testKey('ES256', 'url-a');
  const urlKeyB = await testKey('RS256', 'url-b');
  const jwks = await jwksServer(t, urlKeyA);

  const cp = await startControlPlane(t, undefined, ['--jwks-refresh', '1s']);
  await applyResources(cp, [httpService('web'), httpService('client')]);
  await startWorkload(t, cp, { service: 'web' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const web = `http://127.0.0.1:${client.upstreamPorts['web:8080']}`;
  const call = (token?: string, path = '/hello') => get(web + path, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  await waitFor(async () => (await call()).status === 200, 'web reachable through the sidecars', 30_000);

  await applyResources(cp, [
    requestAuthentication('users', [
      { issuer: ISS, audiences: ['shop'], jwks: jwksOf(rs, es), outputClaimToHeaders: [{ header: 'x-jwt-group', claim: 'group' }] },
      { issuer: ISS_URL, jwksUri: jwks.url },
    ]),
  ]);
  const now = Math.floor(Date.now() / 1000);
  const good = await sign(rs, { iss: ISS, sub: 'alice', aud: 'shop', group: 'admins' });
  const badSignature = await sign(stranger, { iss: ISS, sub: 'alice', aud: 'shop' });
  await waitFor(async () => (await call(badSignature)).status === 401, 'the RequestAuthentication to reach the server sidecar', 30_000);

  // Valid (RS256 and ES256): the app sees the claim header and never the token.
  const ok = await call(good);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.headers['x-jwt-group'], 'admins');
  assert.equal(ok.body.headers.authorization, undefined, 'the token is removed before the app');
  const forged = await get(`${web}/x`, {
    headers: { authorization: `Bearer ${await sign(es, { iss: ISS, sub: 'bob', aud: ['shop', 'other'], group: 'users' })}`, 'x-jwt-group': 'admins' },
  });
  assert.equal(forged.status, 200);
  assert.equal(forged.body.headers['x-jwt-group'], 'users', "the claim replaces a client's own header");

  // Each bad token: 401 with a challenge and the reason.
  const bad: [string, string, RegExp][] = [
    ['expired', await sign(es, { iss: ISS, sub: 'a', aud: 'shop', exp: now - 3600 }), /token expired/],
    ['wrong issuer', await sign(es, { iss: 'https://evil.example.test', sub: 'a', aud: 'shop' }), /issuer "https:\/\/evil.example.test" is not accepted/],
    ['wrong audience', await sign(es, { iss: ISS, sub: 'a', aud: 'billing' }), /audience not accepted/],
    ['bad signature', badSignature, /signature verification failed/],
    ['malformed', 'abc.def', /malformed token/],
  ];
  for (const [what, token, reason] of bad) {
    const r = await call(token);
    assert.equal(r.status, 401, what);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"', what);
    assert.equal(r.headers.get('x-trellis-error'), 'UNAUTHENTICATED', what);
    assert.match(String(r.body), reason, what);
  }
  // No token and no policy: the request is unauthenticated but allowed.
  assert.equal((await call()).status, 200);

  // Keys from a URL: fetched by the control plane (the proxy never reaches it), then rotated.
  const byA = await sign(urlKeyA, { iss: ISS_URL, sub: 'carol' });
  await waitFor(async () => (await call(byA)).status === 200, 'a token signed by the key served at the JWKS URL to pass', 30_000);
  jwks.rotate(urlKeyB);
  const byB = await sign(urlKeyB, { iss: ISS_URL, sub: 'carol' });
  await waitFor(async () => (await call(byB)).status === 200, 'a token signed by the rotated key to pass after the refresh', 60_000);
  assert.equal((await call(byA)).status, 401, 'the old key is gone from the refreshed set');
  assert.ok(jwks.hits() >= 2);

  // A policy requiring an end user: missing token 403, bad token still 401, the right group 200, another group 403.
  await applyResources(cp, [policy('admins-only', [{ from: [{ requestPrincipals: [`${ISS}/*`] }], when: [{ key: 'request.auth.claims[group]', values: ['admins'] }] }])]);
  await waitFor(async () => (await call()).status === 403, 'the policy to apply', 30_000);
  const missing = await call();
  assert.equal(missing.headers.get('x-trellis-error'), 'FORBIDDEN');
  assert.equal((await call(badSignature)).status, 401, 'a bad token is 401 before authorization');
  assert.equal((await call(good)).status, 200, 'group admins is let in');
  const users = await call(await sign(es, { iss: ISS, sub: 'dave', aud: 'shop', group: 'users' }));
  assert.equal(users.status, 403, 'group users is not');
  assert.equal((await call(byB)).status, 403, 'a good token of another issuer is not a principal of this one');
});
