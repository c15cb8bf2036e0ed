// Routing through a DataPlane: virtual hosts by Host, rules by path, header and method,
// weighted traffic splits, and absolute-form targets on an HTTP proxy listener.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import type { RouteRule } from './config/runtime-config.js';
import { cluster, endpoint, httpListener, safeRegex, routeTable, rule, runtimeConfig, virtualHost } from './testing/config-builder.js';
import { request, startDataPlane, startEchoServer, type Echo } from './testing/test-servers.js';

/** Upstreams a, b, c (each names itself) behind clusters a, b, c; `routes` for host `svc`. */
async function plane(t: TestContext, routes: RouteRule[], listener = {}) {
  const servers = await Promise.all(['a', 'b', 'c'].map((n) => startEchoServer(t, n)));
  const { plane } = startDataPlane(t);
  const config = runtimeConfig({
    listeners: [httpListener('out', 0, listener)],
    routes: [routeTable('routes', [virtualHost('svc', ['svc', 'svc.mesh:80'], routes), virtualHost('other', ['other.mesh'], [rule('c', 'c')])])],
    clusters: servers.map((s, i) => cluster('abc'[i]!, [endpoint(s.port)])),
  });
  const result = await plane.apply(config);
  assert.ok(result.ok, JSON.stringify(result.failed));
  return plane.port('out')!;
}

async function servedBy(port: number, opts: Parameters<typeof request>[1]): Promise<string> {
  const res = await request(port, opts);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as Echo).name;
}

test('the virtual host is chosen by Host: exact, with port, case-insensitive', { timeout: 10_000 }, async (t) => {
  const port = await plane(t, [rule('all', 'a')]);
  assert.equal(await servedBy(port, { headers: { host: 'svc' } }), 'a');
  assert.equal(await servedBy(port, { headers: { host: 'SVC:1234' } }), 'a', 'host:port falls back to host');
  assert.equal(await servedBy(port, { headers: { host: 'svc.mesh:80' } }), 'a');
  assert.equal(await servedBy(port, { headers: { host: 'other.mesh' } }), 'c');
});

test('path rules: exact, prefix, segment prefix and regex, first match wins', { timeout: 10_000 }, async (t) => {
  const port = await plane(t, [
    rule('exact', 'a', { path: { type: 'exact', value: '/exact' } }),
    rule('seg', 'b', { path: { type: 'segment-prefix', value: '/api' } }),
    rule('re', 'c', { path: { type: 'regex', regex: safeRegex('/v[0-9]+/.*') } }),
    rule('rest', 'a', { path: { type: 'prefix', value: '/' } }),
  ]);
  const host = { host: 'svc' };
  assert.equal(await servedBy(port, { path: '/exact', headers: host }), 'a');
  assert.equal(await servedBy(port, { path: '/api', headers: host }), 'b');
  assert.equal(await servedBy(port, { path: '/api/users?x=1', headers: host }), 'b');
  assert.equal(await servedBy(port, { path: '/apis', headers: host }), 'a', 'segment prefix stops at element boundaries');
  assert.equal(await servedBy(port, { path: '/v2/things', headers: host }), 'c');
  assert.equal(await servedBy(port, { path: '/xv2/things', headers: host }), 'a', 'regex matches the whole path');
});

test('header, method and query rules', { timeout: 10_000 }, async (t) => {
  const port = await plane(t, [
    rule('canary', 'b', { headers: [{ name: 'x-canary', match: { type: 'exact', value: 'yes' } }] }),
    rule('post', 'c', { headers: [{ name: ':method', match: { type: 'exact', value: 'POST' } }] }),
    rule('debug', 'c', { query: [{ name: 'debug', match: { type: 'exact', value: '1' } }] }),
    rule('rest', 'a'),
  ]);
  const host = { host: 'svc' };
  assert.equal(await servedBy(port, { headers: { ...host, 'X-Canary': 'yes' } }), 'b');
  assert.equal(await servedBy(port, { headers: { ...host, 'x-canary': 'no' } }), 'a');
  assert.equal(await servedBy(port, { method: 'POST', headers: host, body: 'x' }), 'c');
  assert.equal(await servedBy(port, { path: '/p?debug=1', headers: host }), 'c');
  assert.equal(await servedBy(port, { path: '/p?debug=0', headers: host }), 'a');
});

test('a weighted split sends traffic in proportion over 1000 requests', { timeout: 30_000 }, async (t) => {
  const port = await plane(t, [
    rule('split', [
      { cluster: 'a', weight: 80 },
      { cluster: 'b', weight: 20 },
      { cluster: 'c', weight: 0 },
    ]),
  ]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let batch = 0; batch < 100; batch++) {
    const names = await Promise.all(Array.from({ length: 10 }, () => servedBy(port, { headers: { host: 'svc' }, agent })));
    for (const n of names) counts[n]!++;
  }
  assert.equal(counts.a! + counts.b!, 1000);
  assert.equal(counts.c, 0, 'a zero weight gets nothing');
  // Binomial(1000, 0.2): sd ~12.6; +-60 is more than 4.5 sd.
  assert.ok(Math.abs(counts.b! - 200) <= 60, `b got ${counts.b} of 1000, expected about 200`);
});

test('an HTTP proxy listener routes absolute-form targets and forwards origin-form', { timeout: 10_000 }, async (t) => {
  const port = await plane(t, [rule('all', 'b')], { httpProxy: true });
  const res = await request(port, { path: 'http://svc.mesh:80/some/path?q=1', headers: { host: 'ignored' } });
  assert.equal(res.status, 200, res.body);
  const echo = JSON.parse(res.body) as Echo;
  assert.equal(echo.name, 'b');
  assert.equal(echo.path, '/some/path?q=1');
  assert.equal(echo.headers['host'], 'svc.mesh:80', 'Host is the absolute URI authority');
  const other = JSON.parse((await request(port, { path: 'http://other.mesh' })).body) as Echo;
  assert.equal(other.name, 'c');
  assert.equal(other.path, '/');
});

test('an HTTP proxy listener refuses a target that is not absolute http:// with 400', { timeout: 10_000 }, async (t) => {
  const port = await plane(t, [rule('all', 'b')], { httpProxy: true });
  const res = await request(port, { path: '*', method: 'OPTIONS' });
  assert.equal(res.status, 400);
  assert.equal(res.headers['x-trellis-error'], 'BAD_REQUEST');
});

test('an ordinary listener also accepts absolute-form targets, the URI authority winning over Host', { timeout: 10_000 }, async (t) => {
  const port = await plane(t, [rule('all', 'a')]);
  const echo = JSON.parse((await request(port, { path: 'http://other.mesh/x', headers: { host: 'svc' } })).body) as Echo;
  assert.equal(echo.name, 'c');
  assert.equal(echo.path, '/x');
  assert.equal(echo.headers['host'], 'other.mesh');
});
