// Circuit breaking, pending requests: over maxConnections an HTTP/1.1 request waits for a
// connection (at most maxPendingRequests wait), through a DataPlane against real upstream servers.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../common/wait.js';
import type { ClusterConfig, RouteRule } from './config/runtime-config.js';
import type { DataPlane } from './data-plane.js';
import type { ProxyMetrics } from './metrics/proxy-metrics.js';
import { cluster, endpoint, httpListener, routeTable, rule, runtimeConfig, virtualHost } from './testing/config-builder.js';
import { request, startDataPlane, startEchoServer } from './testing/test-servers.js';

const LIMITS = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

/** A plane with one cluster `app`; requests under /long get a route with no timeout, the rest `r`. */
async function planeWith(
  t: TestContext,
  upstreamPorts: number[],
  r: Partial<RouteRule>,
  c: Partial<ClusterConfig>,
): Promise<{ port: number; plane: DataPlane; metrics: ProxyMetrics }> {
  const { plane, metrics } = startDataPlane(t);
  const result = await plane.apply(
    runtimeConfig({
      listeners: [httpListener('out', 0)],
      routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('long', 'app', { path: { type: 'prefix', value: '/long' } }), rule('default', 'app', r)])])],
      clusters: [
        cluster(
          'app',
          upstreamPorts.map((p) => endpoint(p)),
          c,
        ),
      ],
    }),
  );
  assert.ok(result.ok, JSON.stringify(result.failed));
  return { port: plane.port('out')!, plane, metrics };
}

const waiting = (plane: DataPlane): number => plane.stats().clusters.find((c) => c.cluster === 'app')?.pendingRequests ?? 0;

async function rejections(metrics: ProxyMetrics, limit: string): Promise<number> {
  const line = (await metrics.text()).split('\n').find((l) => l.startsWith('trellis_circuit_breaker_rejections_total{') && l.includes(`limit="${limit}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('over maxConnections requests wait for a connection; one over maxPendingRequests fails fast with 503', { timeout: 30_000 }, async (t) => {
  const held: http.ServerResponse[] = [];
  const slow = await startEchoServer(t, 'slow', (_req, res) => {
    held.push(res);
  });
  const { port, plane, metrics } = await planeWith(t, [slow.port], {}, { limits: { ...LIMITS, maxConnections: 2, maxPendingRequests: 3 } });
  const busy = [request(port, { timeoutMs: 10_000 }), request(port, { timeoutMs: 10_000 })];
  await waitFor(async () => held.length === 2, '2 requests reach the backend over 2 connections', 5000);
  const queued = [0, 1, 2].map(() => request(port, { timeoutMs: 10_000 }));
  await waitFor(async () => waiting(plane) === 3, '3 requests wait', 5000);
  const over = await request(port);
  assert.equal(over.status, 503);
  assert.equal(over.headers['x-trellis-error'], 'CIRCUIT_BREAKER_OPEN');
  assert.match(over.body, /maxPendingRequests = 3/);
  assert.match(over.body, /maxConnections = 2/);
  assert.equal(await rejections(metrics, 'max_pending_requests'), 1);
  assert.equal(held.length, 2, 'nothing waiting reached the backend');
  // Each answer frees a keep-alive connection; the next waiter (in order) takes it.
  for (let i = 0; i < 5; i++) {
    held[i]!.writeHead(200);
    held[i]!.end(`r${i}`);
    if (i < 3) await waitFor(async () => held.length === i + 3, `waiter ${i + 1} took the freed connection`, 5000);
  }
  const answers = await Promise.all([...busy, ...queued]);
  assert.deepEqual(
    answers.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
  assert.equal(slow.connections, 2, 'never more than maxConnections');
  assert.equal(waiting(plane), 0);
});

/**
 * maxConnections 1 and maxPendingRequests 1 in front of a backend that holds every response
 * (`held`) until the test answers it; `first` has taken the one connection. `r`: the default
 * route's settings; `firstPath`: where the first request goes.
 */
async function oneBusyConnection(t: TestContext, r: Partial<RouteRule> = {}, firstPath = '/') {
  const held: http.ServerResponse[] = [];
  const slow = await startEchoServer(t, 'slow', (_req, res) => {
    held.push(res);
  });
  const { port, plane } = await planeWith(t, [slow.port], r, { limits: { ...LIMITS, maxConnections: 1, maxPendingRequests: 1 } });
  const first = request(port, { path: firstPath, timeoutMs: 10_000 });
  await waitFor(async () => held.length === 1, 'the first request reaches the backend', 5000);
  return { held, slow, port, plane, first };
}

test('a connection that closes lets a waiting request open a new one', { timeout: 30_000 }, async (t) => {
  const { held, slow, port, plane, first } = await oneBusyConnection(t);
  const second = request(port, { timeoutMs: 10_000 });
  await waitFor(async () => waiting(plane) === 1, 'the second waits', 5000);
  held[0]!.writeHead(200, { connection: 'close' });
  held[0]!.end('bye');
  await waitFor(async () => held.length === 2, 'the second reaches the backend on a new connection', 5000);
  held[1]!.writeHead(200);
  held[1]!.end('ok');
  assert.deepEqual([(await first).status, (await second).status], [200, 200]);
  assert.equal(slow.connections, 2);
});

test('a waiting request honours the route timeout (504) and leaves the queue', { timeout: 30_000 }, async (t) => {
  const { held, slow, port, plane, first } = await oneBusyConnection(t, { timeoutMs: 1500 }, '/long');
  const started = performance.now();
  const late = await request(port, { timeoutMs: 10_000 });
  assert.equal(late.status, 504);
  assert.equal(late.headers['x-trellis-error'], 'REQUEST_TIMEOUT');
  assert.ok(performance.now() - started >= 1400, 'it waited for the route timeout');
  assert.equal(waiting(plane), 0, 'the timed-out request left the queue');
  held[0]!.writeHead(200);
  held[0]!.end('ok');
  assert.equal((await first).status, 200);
  assert.equal(slow.requests, 1, 'the timed-out waiter never reached the backend');
});

test('a waiting request whose client goes away leaves the queue', { timeout: 30_000 }, async (t) => {
  const { held, slow, port, plane, first } = await oneBusyConnection(t);
  const gone = http.get({ host: '127.0.0.1', port, path: '/gone', agent: false });
  gone.on('error', () => {});
  await waitFor(async () => waiting(plane) === 1, 'it waits', 5000);
  gone.destroy();
  await waitFor(async () => waiting(plane) === 0, 'it left the queue', 5000);
  // The queue has room again (maxPendingRequests 1): this one waits instead of a 503.
  const next = request(port, { path: '/next', timeoutMs: 10_000 });
  await waitFor(async () => waiting(plane) === 1, 'the next waits', 5000);
  held[0]!.writeHead(200);
  held[0]!.end('ok');
  await waitFor(async () => held.length === 2, 'the next reaches the backend', 5000);
  held[1]!.writeHead(200);
  held[1]!.end('ok');
  assert.deepEqual([(await first).status, (await next).status], [200, 200]);
  assert.equal(slow.requests, 2, 'the request whose client went away was never sent');
});
