// Circuit breaking, fault injection, local rate limiting, ring-hash affinity and outlier
// ejection through a DataPlane against real upstream servers.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../common/wait.js';
import type { ClusterConfig, RouteRule } from './config/runtime-config.js';
import { request, startEchoServer, startRoutedPlane, type Echo } from './testing/test-servers.js';

async function planeWith(t: TestContext, upstreamPorts: number[], r: Partial<RouteRule>, c: Partial<ClusterConfig> = {}): Promise<number> {
  return (await startRoutedPlane(t, upstreamPorts, r, c)).port;
}

const LIMITS = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

test('the circuit breaker fails fast over maxRequests in flight, with the reason in a header', { timeout: 30_000 }, async (t) => {
  const held: http.ServerResponse[] = [];
  let holding = true;
  const slow = await startEchoServer(t, 'slow', (_req, res) => {
    if (holding) held.push(res);
    else {
      res.writeHead(200);
      res.end('ok');
    }
  });
  const port = await planeWith(t, [slow.port], {}, { limits: { ...LIMITS, maxRequests: 5 } });
  const pending = Array.from({ length: 20 }, () => request(port, { timeoutMs: 10_000 }));
  await waitFor(async () => held.length === 5, '5 requests reach the backend', 5000);
  // The other 15 were answered at once, while the 5 are still held.
  const settled = await Promise.all(pending.slice(5).map((p) => p));
  for (const r of settled) {
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-trellis-error'], 'CIRCUIT_BREAKER_OPEN');
    assert.match(r.body, /circuit breaker limit maxRequests = 5/);
  }
  holding = false;
  for (const res of held) {
    res.writeHead(200);
    res.end('ok');
  }
  for (const r of await Promise.all(pending.slice(0, 5))) assert.equal(r.status, 200);
  assert.equal(slow.requests, 5);
  // Capacity is back once they finished.
  const after = await Promise.all(Array.from({ length: 5 }, () => request(port)));
  assert.deepEqual(
    after.map((r) => r.status),
    [200, 200, 200, 200, 200],
  );
});

test('fault abort hits its percentage (20% of 1,000 requests, within ±60)', { timeout: 60_000 }, async (t) => {
  const echo = await startEchoServer(t, 'echo');
  const port = await planeWith(t, [echo.port], { fault: { abort: { httpStatus: 418, grpcStatus: undefined, perMillion: 200_000 }, headers: [] } });
  let aborted = 0;
  for (let i = 0; i < 1000; i++) {
    const r = await request(port);
    if (r.status === 418) {
      aborted++;
      assert.equal(r.headers['x-trellis-error'], 'FAULT_INJECTED');
    } else assert.equal(r.status, 200);
  }
  // Binomial(1000, 0.2): standard deviation ~12.6, so ±60 is beyond 4.7 sigma.
  assert.ok(Math.abs(aborted - 200) <= 60, `${aborted} of 1000 aborted`);
  assert.equal(echo.requests, 1000 - aborted, 'aborted requests never reach the backend');
});

test('fault delay hits its percentage, and faults apply only to requests with the configured header', { timeout: 60_000 }, async (t) => {
  // A 30 s delay for half of 200 concurrent requests: the undelayed ones reach the backend
  // within seconds even on a loaded machine, the delayed ones cannot before 30 s. No timing is measured.
  const echo = await startEchoServer(t, 'echo');
  const port = await planeWith(t, [echo.port], { fault: { delay: { ms: 30_000, perMillion: 500_000 }, headers: [{ name: 'x-chaos', value: 'on' }] } });
  assert.equal((await request(port)).status, 200, 'no header: no fault');
  const before = echo.requests;
  const pending = Array.from({ length: 200 }, () => request(port, { headers: { 'x-chaos': 'on' }, timeoutMs: 40_000 }).catch(() => undefined));
  let last = -1;
  let stableSince = Date.now();
  await waitFor(
    async () => {
      if (echo.requests !== last) {
        last = echo.requests;
        stableSince = Date.now();
      }
      return echo.requests - before >= 50 && Date.now() - stableSince >= 2000;
    },
    'the undelayed requests reached the backend',
    25_000,
  );
  const undelayed = echo.requests - before;
  // Binomial(200, 0.5): standard deviation ~7; ±35 is 5 sigma.
  assert.ok(Math.abs(undelayed - 100) <= 35, `${200 - undelayed} of 200 delayed`);
  void pending;
});

test('fault abort applies only to requests with the configured header', { timeout: 30_000 }, async (t) => {
  const echo = await startEchoServer(t, 'echo');
  const port = await planeWith(t, [echo.port], {
    fault: { abort: { httpStatus: 503, grpcStatus: undefined, perMillion: 1_000_000 }, headers: [{ name: 'x-chaos', value: 'on' }] },
  });
  for (let i = 0; i < 20; i++) assert.equal((await request(port)).status, 200);
  for (let i = 0; i < 20; i++) assert.equal((await request(port, { headers: { 'x-chaos': 'on' } })).status, 503);
  assert.equal((await request(port, { headers: { 'x-chaos': 'off' } })).status, 200);
});

test('the local rate limit answers 429 once the bucket is empty', { timeout: 30_000 }, async (t) => {
  const echo = await startEchoServer(t, 'echo');
  const port = await planeWith(t, [echo.port], { rateLimit: { maxTokens: 10, tokensPerFill: 10, fillIntervalMs: 60_000 } });
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await request(port)).status);
  assert.equal(statuses.filter((s) => s === 200).length, 10);
  assert.equal(statuses.filter((s) => s === 429).length, 20);
  const r = await request(port);
  assert.equal(r.headers['x-trellis-error'], 'RATE_LIMITED');
  assert.equal(echo.requests, 10);
});

test('the token bucket refills', { timeout: 30_000 }, async (t) => {
  const echo = await startEchoServer(t, 'echo');
  const port = await planeWith(t, [echo.port], { rateLimit: { maxTokens: 2, tokensPerFill: 2, fillIntervalMs: 200 } });
  for (let i = 0; i < 2; i++) assert.equal((await request(port)).status, 200);
  assert.equal((await request(port)).status, 429);
  await new Promise((r) => setTimeout(r, 450));
  assert.equal((await request(port)).status, 200, 'a fill came in');
});

test('ring hash keeps each key on one endpoint and spreads keys over all of them', { timeout: 60_000 }, async (t) => {
  const servers = await Promise.all(['a', 'b', 'c'].map((n) => startEchoServer(t, n)));
  const port = await planeWith(
    t,
    servers.map((s) => s.port),
    { hash: { type: 'header', name: 'x-user' } },
    { lbPolicy: 'ring_hash' },
  );
  const owner = new Map<string, string>();
  for (let round = 0; round < 5; round++) {
    for (let u = 0; u < 60; u++) {
      const r = await request(port, { headers: { 'x-user': `user-${u}` } });
      const by = (JSON.parse(r.body) as Echo).name;
      const first = owner.get(`user-${u}`);
      if (first === undefined) owner.set(`user-${u}`, by);
      else assert.equal(by, first, `user-${u} moved from ${first} to ${by}`);
    }
  }
  const counts = new Map<string, number>();
  for (const by of owner.values()) counts.set(by, (counts.get(by) ?? 0) + 1);
  assert.equal(counts.size, 3, `60 keys use every endpoint: ${JSON.stringify([...counts])}`);
  for (const n of counts.values()) assert.ok(n >= 5, `no endpoint is starved: ${JSON.stringify([...counts])}`);
});

test('ring hash by cookie', { timeout: 30_000 }, async (t) => {
  const servers = await Promise.all(['a', 'b', 'c'].map((n) => startEchoServer(t, n)));
  const port = await planeWith(
    t,
    servers.map((s) => s.port),
    { hash: { type: 'cookie', name: 'session' } },
    { lbPolicy: 'ring_hash' },
  );
  for (const sid of ['s1', 's2', 's3', 's4']) {
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((JSON.parse((await request(port, { headers: { cookie: `theme=dark; session=${sid}` } })).body) as Echo).name);
    assert.equal(seen.size, 1, `session ${sid} went to ${[...seen].join(',')}`);
  }
});

test('outlier detection ejects a failing endpoint and takes it back after the ejection', { timeout: 60_000 }, async (t) => {
  let broken = true;
  const bad = await startEchoServer(t, 'bad', (_req, res) => {
    res.writeHead(broken ? 500 : 200);
    res.end(broken ? 'broken' : 'fixed');
  });
  const good = await Promise.all(['g1', 'g2'].map((n) => startEchoServer(t, n)));
  const port = await planeWith(t, [bad.port, ...good.map((g) => g.port)], {}, { outlier: { consecutiveErrors: 3, intervalMs: 100, baseEjectionMs: 4000, maxEjectionPercent: 50 } });
  let failures = 0;
  for (let i = 0; i < 90; i++) if ((await request(port)).status === 500) failures++;
  assert.equal(failures, 3, 'three consecutive failures eject it: no more traffic goes there');
  assert.equal(bad.requests, 3);
  broken = false;
  // The ejection (4 s, longer than the 90 requests take on a loaded machine) ends at an interval tick; the endpoint comes back on its own.
  await waitFor(
    async () => {
      await request(port);
      return bad.requests > 3;
    },
    'the ejected endpoint gets traffic again',
    15_000,
  );
});

test('outlier detection never ejects more than its share of endpoints', { timeout: 30_000 }, async (t) => {
  const bad = await Promise.all(
    ['b1', 'b2', 'b3', 'b4'].map((n) =>
      startEchoServer(t, n, (_req, res) => {
        res.writeHead(503);
        res.end();
      }),
    ),
  );
  const port = await planeWith(
    t,
    bad.map((b) => b.port),
    {},
    { outlier: { consecutiveErrors: 1, intervalMs: 10_000, baseEjectionMs: 60_000, maxEjectionPercent: 50 } },
  );
  for (let i = 0; i < 40; i++) await request(port);
  const used = bad.filter((b) => b.requests > 1).length;
  assert.equal(used, 2, 'two of four stay in use (50%), though all fail');
});

test('with maxPendingRequests 0 the circuit breaker refuses a request that needs a connection over maxConnections', { timeout: 30_000 }, async (t) => {
  const held: http.ServerResponse[] = [];
  const slow = await startEchoServer(t, 'slow', (_req, res) => {
    held.push(res);
  });
  const port = await planeWith(t, [slow.port], {}, { limits: { ...LIMITS, maxConnections: 2, maxPendingRequests: 0 } });
  const pending = Array.from({ length: 6 }, () => request(port, { timeoutMs: 10_000 }));
  await waitFor(async () => held.length === 2, '2 requests reach the backend over 2 connections', 5000);
  const refused = await Promise.all(pending.slice(2));
  for (const r of refused) {
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-trellis-error'], 'CIRCUIT_BREAKER_OPEN');
    assert.match(r.body, /maxConnections = 2/);
    assert.match(r.body, /maxPendingRequests = 0/);
  }
  assert.equal(slow.connections, 2);
  for (const res of held) {
    res.writeHead(200);
    res.end('ok');
  }
  for (const r of await Promise.all(pending.slice(0, 2))) assert.equal(r.status, 200);
  // The two connections are idle now and reused: no new connection is needed.
  for (let i = 0; i < 4; i++) {
    const r = request(port);
    await waitFor(async () => held.length === 3 + i, 'the request reaches the backend', 5000);
    held[held.length - 1]!.writeHead(200);
    held[held.length - 1]!.end('ok');
    assert.equal((await r).status, 200);
  }
  assert.equal(slow.connections, 2);
});
