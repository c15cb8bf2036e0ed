// Route filters through a DataPlane: header modifiers, URL rewrite, redirects and request
// mirroring (the mirror receives copies, bodies included, the caller sees only the primary's answer).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../common/wait.js';
import type { RouteRule } from './config/runtime-config.js';
import { cluster, endpoint, httpListener, safeRegex, routeTable, rule, runtimeConfig, virtualHost } from './testing/config-builder.js';
import { h2Client, h2Request, request, startDataPlane, startEchoServer, startH2EchoServer, type Echo } from './testing/test-servers.js';
import { redirectLocation } from './layers/redirect-layer.js';
import { replacePrefix } from './layers/prefix-rewrite.js';

async function plane(t: TestContext, r: Partial<RouteRule>, extraClusters: { name: string; port: number }[] = []) {
  const app = await startEchoServer(t, 'app');
  const { plane } = startDataPlane(t);
  const result = await plane.apply(
    runtimeConfig({
      listeners: [httpListener('out', 0)],
      routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', r.redirect ? [] : 'app', r)])])],
      clusters: [cluster('app', [endpoint(app.port)]), ...extraClusters.map((c) => cluster(c.name, [endpoint(c.port)]))],
    }),
  );
  assert.ok(result.ok, JSON.stringify(result.failed));
  return { port: plane.port('out')!, app };
}

test('request headers are set, added and removed before forwarding; response headers on the way back', { timeout: 10_000 }, async (t) => {
  const { port } = await plane(t, {
    requestHeaders: { remove: ['x-debug'], set: [['x-env', 'prod']], add: [['x-tag', 'mesh']] },
    responseHeaders: { remove: ['x-served-by'], set: [['x-via', 'trellis']], add: [] },
  });
  const r = await request(port, { headers: { 'x-debug': '1', 'x-env': 'dev', 'x-tag': 'app' } });
  const echo = JSON.parse(r.body) as Echo;
  assert.equal(echo.headers['x-debug'], undefined);
  assert.equal(echo.headers['x-env'], 'prod');
  assert.equal(echo.headers['x-tag'], 'app, mesh', 'add appends to what the client sent');
  assert.equal(r.headers['x-served-by'], undefined);
  assert.equal(r.headers['x-via'], 'trellis');
});

test('a prefix rewrite replaces the matched prefix on element boundaries and a host rewrite the Host', { timeout: 10_000 }, async (t) => {
  const { port } = await plane(t, { path: { type: 'segment-prefix', value: '/api' }, rewrite: { prefix: { from: '/api', to: '/v2' }, host: 'backend.internal' } });
  const echo = JSON.parse((await request(port, { path: '/api/users?id=7' })).body) as Echo;
  assert.equal(echo.path, '/v2/users?id=7');
  assert.equal(echo.headers.host, 'backend.internal');
  assert.equal(replacePrefix('/api', '/api', '/'), '/');
  assert.equal(replacePrefix('/api/x', '/api', '/'), '/x');
  assert.equal(replacePrefix('/api?q=1', '/api', '/v2/'), '/v2?q=1');
});

test('a full-path rewrite by regex', { timeout: 10_000 }, async (t) => {
  const { port } = await plane(t, { rewrite: { regex: { regex: safeRegex('^/.*$'), substitution: '/health' } } });
  assert.equal((JSON.parse((await request(port, { path: '/anything/at/all?x=1' })).body) as Echo).path, '/health?x=1');
});

test('a redirect route answers with Location and never reaches a backend', { timeout: 10_000 }, async (t) => {
  const { port, app } = await plane(t, { redirect: { status: 301, scheme: 'https', stripQuery: false } });
  const r = await request(port, { path: '/login?next=/x', headers: { host: 'shop.mesh:8080' } });
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, 'https://shop.mesh/login?next=/x', 'a scheme change drops the port');
  assert.equal(app.requests, 0);
  assert.equal(redirectLocation({ authority: 'a:81', path: '/old/x?y' }, { status: 302, prefix: { from: '/old', to: '/new' }, stripQuery: true }), 'http://a:81/new/x');
  assert.equal(redirectLocation({ authority: 'a', path: '/p' }, { status: 302, host: 'b', port: 8443, scheme: 'https', stripQuery: false }), 'https://b:8443/p');
});

test('mirroring: the mirror receives copies, the caller sees only the primary, and a broken mirror changes nothing', { timeout: 20_000 }, async (t) => {
  const shadow = await startEchoServer(t, 'shadow', (req, res) => {
    res.writeHead(500, { 'x-from': 'shadow' });
    res.end('shadow answer');
  });
  const { port, app } = await plane(t, { mirrors: [{ cluster: 'shadow', perMillion: 1_000_000 }] }, [{ name: 'shadow', port: shadow.port }]);
  const seen: string[] = [];
  shadow.server.prependListener('request', (req) => seen.push(`${req.method} ${req.url} ${req.headers.host}`));
  for (let i = 0; i < 20; i++) {
    const r = await request(port, { path: `/p${i}`, headers: { host: 'svc' } });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as Echo).name, 'app');
  }
  await waitFor(async () => seen.length === 20, 'the mirror got a copy of each request', 5000);
  assert.equal(app.requests, 20);
  assert.deepEqual(seen.slice(0, 2), ['GET /p0 svc-shadow', 'GET /p1 svc-shadow']);
  assert.equal(shadow.connections, 1, "every copy went over the mirror endpoint's one pooled connection");
  const bodies: string[] = [];
  shadow.server.prependListener('request', (req) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => bodies.push(body));
  });
  const withBody = await request(port, { method: 'POST', body: 'payload' });
  assert.equal(withBody.status, 200);
  await waitFor(async () => bodies.length === 1, 'the copy of the POST', 5000);
  assert.deepEqual([seen[20], bodies[0]], ['POST / 127.0.0.1:' + port + '-shadow', 'payload'], 'a request with a body is copied with its body');
});

test('a mirror that does not answer or refuses connections never delays or fails the caller', { timeout: 20_000 }, async (t) => {
  const hung = await startEchoServer(t, 'hung', () => {
    /* never answers */
  });
  const { port } = await plane(
    t,
    {
      mirrors: [
        { cluster: 'hung', perMillion: 1_000_000 },
        { cluster: 'dead', perMillion: 1_000_000 },
      ],
    },
    [
      { name: 'hung', port: hung.port },
      { name: 'dead', port: 1 },
    ],
  );
  for (let i = 0; i < 10; i++) assert.equal((await request(port, { timeoutMs: 2000 })).status, 200);
});

test('mirroring HTTP/2: the copy has the same body and `-shadow` on its :authority; a request whose client went away mid-body sends none', { timeout: 20_000 }, async (t) => {
  let halfArrived = false;
  const app = await startH2EchoServer(t, 'app', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      halfArrived = true;
    });
    stream.on('end', () => {
      if (stream.closed) return;
      stream.respond({ ':status': 200 });
      stream.end(Buffer.concat(chunks));
    });
  });
  const copies: { authority: string; body: string }[] = [];
  const shadow = await startH2EchoServer(t, 'shadow', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      copies.push({ authority: String(headers[':authority']), body: Buffer.concat(chunks).toString() });
      stream.respond({ ':status': 200 });
      stream.end();
    });
  });
  const { plane, metrics } = startDataPlane(t);
  const result = await plane.apply(
    runtimeConfig({
      listeners: [httpListener('out', 0)],
      routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', 'app', { mirrors: [{ cluster: 'shadow', perMillion: 1_000_000 }] })])])],
      clusters: [cluster('app', [endpoint(app.port)]), cluster('shadow', [endpoint(shadow.port)])],
    }),
  );
  assert.ok(result.ok, JSON.stringify(result.failed));
  const session = h2Client(t, plane.port('out')!);
  const res = await h2Request(session, { ':method': 'POST', ':path': '/orders', ':authority': 'orders:8080' }, 'the order');
  assert.deepEqual([res.status, res.body], [200, 'the order']);
  await waitFor(async () => copies.length === 1, 'the copy', 5000);
  assert.deepEqual(copies, [{ authority: 'orders:8080-shadow', body: 'the order' }]);

  // Half a body, then the client goes away (no END_STREAM): the primary gets a reset, the mirror nothing.
  const cut = h2Client(t, plane.port('out')!);
  const req = cut.request({ ':method': 'POST', ':path': '/cut', ':authority': 'orders:8080' });
  req.on('error', () => {});
  halfArrived = false;
  req.write('half of a bo');
  await waitFor(async () => halfArrived, 'the half body at the primary', 5000, 5);
  cut.destroy();
  const outcome = async (o: string) => Number((await metrics.text()).match(new RegExp(`trellis_mirror_requests_total\\{[^}]*outcome="${o}"[^}]*\\} (\\d+)`))?.[1] ?? 0);
  await waitFor(async () => (await outcome('dropped_body_incomplete')) === 1, 'the copy dropped with the request', 5000);
  assert.equal(await outcome('sent'), 1);
  assert.equal(copies.length, 1);
});
