// The proxy's own answers: status, `x-trellis-error` code and a text reason for no route,
// no backend, no endpoint, connect failure and timeout.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { freePort } from '../common/free-port.js';
import type { RuntimeConfig } from './config/runtime-config.js';
import { cluster, endpoint, httpListener, routeTable, rule, runtimeConfig, simpleConfig, virtualHost } from './testing/config-builder.js';
import { request, startDataPlane, startEchoServer } from './testing/test-servers.js';

async function applied(t: TestContext, config: RuntimeConfig): Promise<number> {
  const { plane } = startDataPlane(t);
  const result = await plane.apply(config);
  assert.ok(result.ok, JSON.stringify(result.failed));
  return plane.port('out')!;
}

test('no matching virtual host or rule is 404 NO_ROUTE naming host and path', { timeout: 10_000 }, async (t) => {
  const config = runtimeConfig({
    listeners: [httpListener('out', 0)],
    routes: [routeTable('routes', [virtualHost('svc', ['svc'], [rule('only', 'app', { path: { type: 'exact', value: '/only' } })])])],
    clusters: [cluster('app', [endpoint(1)])],
  });
  const port = await applied(t, config);
  for (const [host, path] of [
    ['nowhere.mesh', '/x'],
    ['svc', '/other'],
  ] as const) {
    const res = await request(port, { path, headers: { host } });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-trellis-error'], 'NO_ROUTE');
    assert.equal(res.body, `no route for host ${host} path ${path}\n`);
  }
});

test('a listener whose route table is missing answers 404', { timeout: 10_000 }, async (t) => {
  const port = await applied(t, runtimeConfig({ listeners: [httpListener('out', 0, { routeTable: 'absent' })] }));
  const res = await request(port);
  assert.equal(res.status, 404);
  assert.equal(res.headers['x-trellis-error'], 'NO_ROUTE');
});

test('a cluster without endpoints is 503 NO_HEALTHY_ENDPOINT', { timeout: 10_000 }, async (t) => {
  const config = runtimeConfig({
    listeners: [httpListener('out', 0)],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', 'empty')])])],
    clusters: [cluster('empty', [])],
  });
  const res = await request(await applied(t, config));
  assert.equal(res.status, 503);
  assert.equal(res.headers['x-trellis-error'], 'NO_HEALTHY_ENDPOINT');
  assert.match(res.body, /no healthy endpoint in cluster empty/);
});

test('a rule whose backend weights are all zero is 503 NO_BACKEND', { timeout: 10_000 }, async (t) => {
  const config = runtimeConfig({
    listeners: [httpListener('out', 0)],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', [{ cluster: 'app', weight: 0 }])])])],
    clusters: [cluster('app', [endpoint(1)])],
  });
  const res = await request(await applied(t, config));
  assert.equal(res.status, 503);
  assert.equal(res.headers['x-trellis-error'], 'NO_BACKEND');
  assert.match(res.body, /no backends for route all\/r/);
});

test('a refused upstream connection is 502 UPSTREAM_CONNECT_FAILED', { timeout: 10_000 }, async (t) => {
  const closedPort = await freePort();
  const res = await request(await applied(t, simpleConfig(0, [closedPort])));
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_CONNECT_FAILED');
  assert.equal(res.body, 'upstream connect failed: ECONNREFUSED\n');
  assert.doesNotMatch(res.body, new RegExp(`127\\.0\\.0\\.1|${closedPort}`), 'the client is not told the endpoint');
});

test('an upstream that closes without answering is 502 UPSTREAM_RESET', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'rude', (req) => req.socket.destroy());
  const res = await request(await applied(t, simpleConfig(0, [upstream.port])));
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_RESET');
  assert.doesNotMatch(res.body, new RegExp(`127\\.0\\.0\\.1|${upstream.port}`), 'the client is not told the endpoint');
});

test('an upstream slower than the route timeout is 504 REQUEST_TIMEOUT and is cancelled', { timeout: 10_000 }, async (t) => {
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const upstream = await startEchoServer(t, 'slow', (req) => req.socket.once('close', () => upstreamClosed()));
  const started = Date.now();
  const res = await request(await applied(t, simpleConfig(0, [upstream.port], { timeoutMs: 150 })));
  assert.equal(res.status, 504);
  assert.equal(res.headers['x-trellis-error'], 'REQUEST_TIMEOUT');
  assert.match(res.body, /route all\/default timed out: no complete response within 150 ms/);
  assert.ok(Date.now() - started >= 140);
  await closed;
});

test('a response within the timeout is not affected by it', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const port = await applied(t, simpleConfig(0, [upstream.port], { timeoutMs: 1000 }));
  for (let i = 0; i < 5; i++) assert.equal((await request(port)).status, 200);
});

test('answers from the upstream carry no x-trellis-error, even errors', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'e', (_req, res) => res.writeHead(503).end('app says no'));
  const res = await request(await applied(t, simpleConfig(0, [upstream.port])));
  assert.equal(res.status, 503);
  assert.equal(res.body, 'app says no');
  assert.equal(res.headers['x-trellis-error'], undefined);
});
