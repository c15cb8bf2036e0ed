// The resilience counters through a DataPlane against real upstream servers: retries by reason,
// per-try and route timeouts, circuit breaker rejections by limit, outlier ejections.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { test } from 'node:test';
import { freePort } from '../common/free-port.js';
import { waitFor } from '../common/wait.js';
import { seriesSum } from './metrics/prom-text.js';
import type { ProxyMetrics } from './metrics/proxy-metrics.js';
import { retryPolicy } from './testing/config-builder.js';
import { request, startEchoServer, startRoutedPlane } from './testing/test-servers.js';

/** The value of counter `name` for cluster service "app" and `labels` (0 when no series). */
async function count(metrics: ProxyMetrics, name: string, labels: Record<string, string>): Promise<number> {
  return seriesSum(await metrics.text(), name, { service: 'app', ...labels }) ?? 0;
}

const LIMITS = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 1000 };
const answer =
  (status: number): http.RequestListener =>
  (_req, res) => {
    res.writeHead(status);
    res.end();
  };

test('each retry is counted with its reason: 5xx, connect-failure', { timeout: 30_000 }, async (t) => {
  const down = await startEchoServer(t, 'down', answer(503));
  const a = await startRoutedPlane(t, [down.port], { retry: retryPolicy({ numRetries: 2 }) }, { limits: LIMITS });
  assert.equal((await request(a.port)).status, 503);
  assert.equal(down.requests, 3);
  assert.equal(await count(a.metrics, 'trellis_retries_total', { reason: '5xx' }), 2);
  assert.equal(await count(a.metrics, 'trellis_retries_total', { reason: 'connect-failure' }), 0);

  const b = await startRoutedPlane(t, [await freePort()], { retry: retryPolicy({ numRetries: 3 }) }, { limits: LIMITS });
  assert.equal((await request(b.port)).status, 502);
  assert.equal(await count(b.metrics, 'trellis_retries_total', { reason: 'connect-failure' }), 3);
  assert.equal(await count(b.metrics, 'trellis_retries_total', {}), 3, 'no other reason');
});

test('per-try timeouts count as timeouts of kind per_try and as per-try-timeout retries', { timeout: 30_000 }, async (t) => {
  const slow = await startEchoServer(t, 'slow', (_req, res) => {
    setTimeout(() => {
      res.writeHead(200);
      res.end('late');
    }, 3000);
  });
  const { port, metrics } = await startRoutedPlane(t, [slow.port], { retry: retryPolicy({ numRetries: 1, perTryTimeoutMs: 150 }) });
  assert.equal((await request(port)).status, 504);
  assert.equal(await count(metrics, 'trellis_timeouts_total', { direction: 'outbound', kind: 'per_try' }), 2, 'both attempts');
  assert.equal(await count(metrics, 'trellis_retries_total', { reason: 'per-try-timeout' }), 1);
  assert.equal(await count(metrics, 'trellis_timeouts_total', { kind: 'request' }), 0);
});

test('a route timeout that ends the request counts as a timeout of kind request', { timeout: 30_000 }, async (t) => {
  const slow = await startEchoServer(t, 'slow', (_req, res) => {
    setTimeout(() => {
      res.writeHead(200);
      res.end('late');
    }, 3000);
  });
  const { port, metrics } = await startRoutedPlane(t, [slow.port], { timeoutMs: 200 });
  assert.equal((await request(port)).status, 504);
  assert.equal((await request(port)).status, 504);
  assert.equal(await count(metrics, 'trellis_timeouts_total', { direction: 'outbound', kind: 'request' }), 2);
  // A fast answer is no timeout.
  const fast = await startEchoServer(t, 'fast');
  const f = await startRoutedPlane(t, [fast.port], { timeoutMs: 200 });
  assert.equal((await request(f.port)).status, 200);
  assert.equal(await count(f.metrics, 'trellis_timeouts_total', {}), 0);
});

test('circuit breaker rejections are counted by the limit reached', { timeout: 30_000 }, async (t) => {
  const held: http.ServerResponse[] = [];
  const slow = await startEchoServer(t, 'slow', (_req, res) => {
    held.push(res);
  });
  const a = await startRoutedPlane(t, [slow.port], {}, { limits: { ...LIMITS, maxRequests: 2 } });
  const pending = Array.from({ length: 5 }, () => request(a.port, { timeoutMs: 10_000 }));
  await waitFor(async () => held.length === 2, '2 requests reach the backend', 5000);
  await Promise.all(pending.slice(2));
  assert.equal(await count(a.metrics, 'trellis_circuit_breaker_rejections_total', { limit: 'max_requests' }), 3);
  assert.equal(await count(a.metrics, 'trellis_circuit_breaker_rejections_total', { limit: 'max_pending_requests' }), 0);
  for (const res of held.splice(0)) {
    res.writeHead(200);
    res.end();
  }
  await Promise.all(pending.slice(0, 2));

  const b = await startRoutedPlane(t, [slow.port], {}, { limits: { ...LIMITS, maxConnections: 1, maxPendingRequests: 0 } });
  const pending2 = Array.from({ length: 3 }, () => request(b.port, { timeoutMs: 10_000 }));
  await waitFor(async () => held.length === 1, '1 request reaches the backend', 5000);
  await Promise.all(pending2.slice(1));
  assert.equal(await count(b.metrics, 'trellis_circuit_breaker_rejections_total', { limit: 'max_pending_requests' }), 2);
  for (const res of held.splice(0)) {
    res.writeHead(200);
    res.end();
  }
  await pending2[0];
});

test('an outlier ejection is counted with its reason', { timeout: 30_000 }, async (t) => {
  const bad = await startEchoServer(t, 'bad', answer(500));
  const good = await startEchoServer(t, 'good');
  const { port, metrics } = await startRoutedPlane(
    t,
    [bad.port, good.port],
    {},
    { outlier: { consecutiveErrors: 3, intervalMs: 10_000, baseEjectionMs: 60_000, maxEjectionPercent: 50 } },
  );
  assert.equal(await count(metrics, 'trellis_outlier_ejections_total', {}), 0);
  for (let i = 0; i < 20; i++) await request(port);
  assert.equal(bad.requests, 3, 'ejected after three failures');
  assert.equal(await count(metrics, 'trellis_outlier_ejections_total', { reason: 'consecutive_errors' }), 1);
  assert.equal(await count(metrics, 'trellis_outlier_ejections_total', { reason: 'failure_percent' }), 0);
});
