// Retries and timeouts through a DataPlane against real upstream servers: a backend failing
// 30% hidden by retries, the retry budget capping amplification, per-try and overall timeouts,
// gRPC status retries, replayed bodies, and requests that must not be retried.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { test, type TestContext } from 'node:test';
import type { ClusterConfig, RouteRule } from './config/runtime-config.js';
import { retryPolicy, safeRegex } from './testing/config-builder.js';
import { waitFor } from '../common/wait.js';
import { h2Client, h2Request, request, startEchoServer, startRoutedPlane, startH2EchoServer } from './testing/test-servers.js';

async function planeWith(t: TestContext, upstreamPorts: number[], r: Partial<RouteRule>, c: Partial<ClusterConfig> = {}): Promise<number> {
  return (await startRoutedPlane(t, upstreamPorts, r, c)).port;
}

/** An upstream that answers 503 for a `share` of requests (decided by a seeded sequence, so the count is exact). */
function failingShare(share: number): http.RequestListener {
  let n = 0;
  return (_req, res) => {
    // Every 10 requests, the first share×10 fail: 30% fails exactly 3 of 10.
    const fail = n++ % 10 < share * 10;
    res.writeHead(fail ? 503 : 200, { 'content-type': 'text/plain' });
    res.end(fail ? 'down' : 'ok');
  };
}

test('retries hide a backend that fails 30% of the time (1,000 requests)', { timeout: 60_000 }, async (t) => {
  const flaky = await startEchoServer(t, 'flaky', failingShare(0.3));
  const port = await planeWith(t, [flaky.port], { retry: retryPolicy({ numRetries: 3 }) });
  let ok = 0;
  for (let i = 0; i < 1000; i++) if ((await request(port)).status === 200) ok++;
  // Three failures in a row happen only at positions 0,1,2 of a cycle of 10; a fourth attempt is then position 3: success.
  assert.equal(ok, 1000, `${1000 - ok} requests failed despite retries`);
  assert.ok(flaky.requests > 1000 * 1.3, `the backend saw ${flaky.requests} attempts: retries happened`);
});

test('without a retry policy the same backend fails its 30%', { timeout: 30_000 }, async (t) => {
  const flaky = await startEchoServer(t, 'flaky', failingShare(0.3));
  const port = await planeWith(t, [flaky.port], {});
  let failed = 0;
  for (let i = 0; i < 200; i++) if ((await request(port)).status === 503) failed++;
  assert.equal(failed, 60);
});

/** An upstream that holds each request `ms` then answers 503. */
const slowFailure =
  (ms: number): http.RequestListener =>
  (_req, res) => {
    setTimeout(() => {
      res.writeHead(503);
      res.end('down');
    }, ms);
  };

async function burst(port: number, n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => request(port, { timeoutMs: 10_000 }).then((r) => r.status)));
}

test('a retry budget caps how many retries an outage causes', { timeout: 60_000 }, async (t) => {
  // 40 requests at once to a backend that is down: 3 retries each would make 160 attempts.
  const unbounded = await startEchoServer(t, 'down', slowFailure(100));
  const p1 = await planeWith(
    t,
    [unbounded.port],
    { retry: retryPolicy({ numRetries: 3 }) },
    { limits: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 1000 } },
  );
  assert.deepEqual(new Set(await burst(p1, 40)), new Set([503]));
  assert.equal(unbounded.requests, 160, 'without a budget every request retries 3 times');

  // Budget 20% of 40 in flight: at most 8 requests retry (3 times each): 40 + 24 attempts.
  const budgeted = await startEchoServer(t, 'down-too', slowFailure(100));
  const p2 = await planeWith(
    t,
    [budgeted.port],
    { retry: retryPolicy({ numRetries: 3 }) },
    { limits: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 1000, retryBudget: { percent: 20, minConcurrency: 1 } } },
  );
  assert.deepEqual(new Set(await burst(p2, 40)), new Set([503]));
  assert.ok(budgeted.requests >= 40 && budgeted.requests <= 40 + 8 * 3, `with a 20% budget the backend saw ${budgeted.requests} attempts (expected 40..64)`);
});

test('the default maxRetries of 3 limits concurrent retries when no budget is set', { timeout: 30_000 }, async (t) => {
  const down = await startEchoServer(t, 'down', slowFailure(100));
  const port = await planeWith(t, [down.port], { retry: retryPolicy({ numRetries: 2 }) });
  await burst(port, 20);
  assert.ok(down.requests <= 20 + 3 * 2, `the backend saw ${down.requests} attempts (expected at most 26)`);
});

test('a per-try timeout retries a slow attempt, and answers 504 when every attempt is slow', { timeout: 30_000 }, async (t) => {
  let n = 0;
  // The first attempt of each pair hangs for 2 s; the second answers at once.
  const sometimesSlow = await startEchoServer(t, 'slow', (_req, res) => {
    if (n++ % 2 === 0)
      setTimeout(() => {
        res.writeHead(200);
        res.end('late');
      }, 2000);
    else {
      res.writeHead(200);
      res.end('fast');
    }
  });
  const port = await planeWith(t, [sometimesSlow.port], { retry: retryPolicy({ numRetries: 1, perTryTimeoutMs: 150 }) });
  const r = await request(port);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'fast');

  const alwaysSlow = await startEchoServer(t, 'slower', (_req, res) => {
    setTimeout(() => {
      res.writeHead(200);
      res.end('late');
    }, 3000);
  });
  const port2 = await planeWith(t, [alwaysSlow.port], { retry: retryPolicy({ numRetries: 1, perTryTimeoutMs: 150 }) });
  const r2 = await request(port2);
  assert.equal(r2.status, 504);
  assert.equal(r2.headers['x-trellis-error'], 'UPSTREAM_TIMEOUT');
  assert.match(r2.body, /per-try timeout of 150 ms/);
  assert.equal(alwaysSlow.requests, 2, 'one try and one retry');
});

test('an overall timeout answers 504 over retries, and gRPC DEADLINE_EXCEEDED to gRPC clients', { timeout: 30_000 }, async (t) => {
  const down = await startEchoServer(t, 'down', slowFailure(150));
  const port = await planeWith(t, [down.port], { timeoutMs: 400, retry: retryPolicy({ numRetries: 10 }) });
  const r = await request(port);
  assert.equal(r.status, 504);
  assert.equal(r.headers['x-trellis-error'], 'REQUEST_TIMEOUT');
  assert.ok(down.requests >= 2 && down.requests <= 4, `${down.requests} attempts fit in 400 ms of 150 ms attempts`);

  const slowGrpc = await startH2EchoServer(t, 'grpc', (stream) => {
    setTimeout(() => {
      if (!stream.destroyed) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        stream.end();
      }
    }, 3000);
  });
  const port2 = await planeWith(t, [slowGrpc.port], { timeoutMs: 200 });
  const res = await h2Request(h2Client(t, port2), { ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['grpc-status'], '4', 'DEADLINE_EXCEEDED');
  assert.equal(res.headers['x-trellis-error'], 'REQUEST_TIMEOUT');
});

test('a gRPC UNAVAILABLE answer is retried when the policy lists it', { timeout: 30_000 }, async (t) => {
  let n = 0;
  const grpc = await startH2EchoServer(t, 'grpc', (stream) => {
    stream.on('data', () => {});
    const unavailable = n++ === 0;
    stream.respond(
      unavailable ? { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' } : { ':status': 200, 'content-type': 'application/grpc' },
      unavailable ? { endStream: true } : { waitForTrailers: true },
    );
    if (!unavailable) {
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end();
    }
  });
  const port = await planeWith(t, [grpc.port], { retry: retryPolicy({ numRetries: 2 }, { fiveXx: false, grpcStatuses: [14] }) });
  const res = await h2Request(h2Client(t, port), { ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' });
  assert.equal(res.trailers?.['grpc-status'], '0');
  assert.equal(n, 2);
});

test('a non-idempotent method is not retried after reaching the backend; bodies are kept up to 64 KiB and replayed', { timeout: 30_000 }, async (t) => {
  const bodies: number[] = [];
  const down = await startEchoServer(t, 'down', (req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      bodies.push(n);
      res.writeHead(503);
      res.end();
    });
  });
  const port = await planeWith(t, [down.port], { retry: retryPolicy({ numRetries: 2, methods: safeRegex('GET|HEAD|OPTIONS|TRACE|PUT|DELETE') }) });
  assert.equal((await request(port, { method: 'POST' })).status, 503);
  assert.equal(down.requests, 1, 'POST is not idempotent');
  assert.equal((await request(port, { method: 'PUT', body: 'x'.repeat(1000) })).status, 503);
  assert.equal(down.requests, 4, 'PUT with a small body: one try and two retries');
  assert.deepEqual(bodies.slice(1), [1000, 1000, 1000], 'each retry sent the whole body again');
  assert.equal((await request(port, { method: 'PUT', body: 'x'.repeat(70_000) })).status, 503);
  assert.equal(down.requests, 5, 'a body over 64 KiB is not kept: no retry');
  assert.equal((await request(port, { method: 'GET' })).status, 503);
  assert.equal(down.requests, 8, 'GET without a body: one try and two retries');
});

test('a retried request keeps its chunked body, and a retried gRPC call its message', { timeout: 30_000 }, async (t) => {
  let n = 0;
  const flaky = await startEchoServer(t, 'flaky', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(n++ === 0 ? 503 : 200);
      res.end(Buffer.concat(chunks));
    });
  });
  const port = await planeWith(t, [flaky.port], { retry: retryPolicy({ numRetries: 1 }) });
  const r = await request(port, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'hello body' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello body');

  let calls = 0;
  const grpc = await startH2EchoServer(t, 'grpc', (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (calls++ === 0) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat(chunks));
    });
  });
  const port2 = await planeWith(t, [grpc.port], { retry: retryPolicy({ numRetries: 2 }, { fiveXx: false, grpcStatuses: [14] }) });
  const res = await h2Request(h2Client(t, port2), { ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' }, 'grpc-message-bytes');
  assert.equal(res.trailers?.['grpc-status'], '0');
  assert.equal(res.body, 'grpc-message-bytes');
  assert.equal(calls, 2);
});

test('a retried 5xx read whole keeps its connection: retries go out on the pooled one', { timeout: 30_000 }, async (t) => {
  const flaky = await startEchoServer(t, 'flaky', failingShare(0.3));
  const port = await planeWith(t, [flaky.port], { retry: retryPolicy({ numRetries: 3 }) });
  for (let i = 0; i < 100; i++) assert.equal((await request(port)).status, 200);
  assert.equal(flaky.requests, 145, '45 retries of a 503 (the first 3 of every 10 attempts fail)');
  // One request at a time: one pooled connection carries every attempt (before this, each retried 503 closed it: 46).
  assert.equal(flaky.connections, 1);
});

test('a retried 5xx whose body is large or slow to come closes its connection instead of waiting for it', { timeout: 30_000 }, async (t) => {
  let n = 0;
  const upstream = await startEchoServer(t, 'odd', (_req, res) => {
    const attempt = n++ % 3;
    if (attempt === 2) return void res.end('ok');
    res.writeHead(503, { 'content-length': String(attempt === 0 ? 200_000 : 10) });
    if (attempt === 0)
      res.end('x'.repeat(200_000)); // over the 64 KiB read to keep a connection
    else res.write('slow'); // never finished
  });
  let open = 0;
  upstream.server.on('connection', (socket) => {
    open++;
    socket.on('close', () => open--);
  });
  const port = await planeWith(t, [upstream.port], { retry: retryPolicy({ numRetries: 3 }) });
  for (let i = 0; i < 3; i++) assert.equal((await request(port)).status, 200);
  assert.equal(upstream.requests, 9);
  // Per request: the large 503 closes its connection at once, the slow one 1 s later, the 200 goes
  // back to the pool and carries the next request's first attempt: 3 + 2 + 2 connections.
  assert.equal(upstream.connections, 7);
  await waitFor(async () => open === 1, 'the slow 503s to be given up (only the pooled connection left)', 10_000);
});
