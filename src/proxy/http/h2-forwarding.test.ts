// HTTP/2 prior knowledge (h2c) through an HTTP listener: one port serves h1 and h2, h2
// requests go upstream over one multiplexed h2c session, bodies, trailers and resets pass.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { test, type TestContext } from 'node:test';
import { freePort } from '../../common/free-port.js';
import { waitFor } from '../../common/wait.js';
import { runtimeConfig, simpleConfig } from '../testing/config-builder.js';
import { h2Client, h2Request, request, startDataPlane, startH2EchoServer, type Echo } from '../testing/test-servers.js';

async function proxied(t: TestContext, handler?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void) {
  const upstream = await startH2EchoServer(t, 'h2app', handler);
  const { plane } = startDataPlane(t);
  const result = await plane.apply(simpleConfig(0, [upstream.port]));
  assert.ok(result.ok, JSON.stringify(result.failed));
  return { upstream, plane, port: plane.port('out')! };
}

test('an h2c GET reaches the upstream with method, path, authority and headers', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const session = h2Client(t, port);
  const res = await h2Request(session, { ':method': 'GET', ':path': '/h2/path?q=1', ':authority': 'svc.mesh:8080', 'x-custom': 'v' });
  assert.equal(res.status, 200);
  const echo = JSON.parse(res.body) as Echo;
  assert.equal(echo.method, 'GET');
  assert.equal(echo.path, '/h2/path?q=1');
  assert.equal(echo.headers[':authority'], 'svc.mesh:8080');
  assert.equal(echo.headers['x-custom'], 'v');
});

test('an h2c POST body arrives whole', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const session = h2Client(t, port);
  const body = 'y'.repeat(200_000);
  const res = await h2Request(session, { ':method': 'POST', ':path': '/p', ':authority': 'a' }, body);
  assert.equal((JSON.parse(res.body) as Echo).body, body);
});

test('the same port still serves HTTP/1.1', { timeout: 10_000 }, async (t) => {
  // The upstream speaks only h2; an h1 request goes upstream as h1 and fails there, but the
  // listener must have accepted and parsed it as HTTP/1.1 (a 502 from the proxy, not a hang).
  const { port } = await proxied(t);
  const res = await request(port, { path: '/h1' });
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_RESET');
});

test('concurrent h2 requests share one upstream session', { timeout: 10_000 }, async (t) => {
  const { port, upstream } = await proxied(t);
  const session = h2Client(t, port);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => h2Request(session, { ':method': 'GET', ':path': `/${i}`, ':authority': 'a' })));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(20).fill(200),
  );
  assert.equal(upstream.sessions(), 1);
});

test('a first burst on a new upstream session keeps to the streams the upstream allows (none refused)', { timeout: 10_000 }, async (t) => {
  // The upstream allows 4 streams at a time and answers each a turn later, so the streams of
  // one read stay open together: the proxy must not open a 5th before its SETTINGS arrived.
  const server = http2.createServer({ settings: { maxConcurrentStreams: 4 } });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    setImmediate(() => {
      if (stream.closed) return;
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sessions) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { plane } = startDataPlane(t);
  const applied = await plane.apply(simpleConfig(0, [(server.address() as net.AddressInfo).port]));
  assert.ok(applied.ok, JSON.stringify(applied.failed));
  const session = h2Client(t, plane.port('out')!);
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => h2Request(session, { ':method': 'GET', ':path': `/${i}`, ':authority': 'a' })));
  assert.deepEqual(
    results.map((r) => `${r.status} ${String(r.headers['x-trellis-error'] ?? '')}`),
    Array(24).fill('200 '),
  );
});

test('response trailers are forwarded', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t, (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done', 'grpc-status': '0' }));
    stream.end('body');
  });
  const session = h2Client(t, port);
  const res = await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'a' });
  assert.equal(res.body, 'body');
  assert.equal(res.trailers?.['x-trailer'], 'done');
});

test('a trailers-only response stays trailers-only', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t, (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found' }, { endStream: true });
  });
  const session = h2Client(t, port);
  const res = await h2Request(session, { ':method': 'POST', ':path': '/pkg.Svc/Get', ':authority': 'a', 'content-type': 'application/grpc' }, '');
  assert.equal(res.headers['grpc-status'], '5');
  assert.equal(res.body, '');
});

test('an upstream stream reset after the response started resets the downstream stream', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t, (stream) => {
    stream.respond({ ':status': 200 });
    stream.write('partial');
    // destroy() resets at once; close() would first end the stream cleanly when the request is complete.
    setTimeout(() => stream.destroy(new Error('boom')), 20);
  });
  const session = h2Client(t, port);
  await assert.rejects(h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'a' }), /stream reset with code 2/);
});

test('a client cancel resets the upstream stream', { timeout: 10_000 }, async (t) => {
  let cancelled!: (code: number) => void;
  const upstreamClosed = new Promise<number>((r) => (cancelled = r));
  const { port } = await proxied(t, (stream) => {
    stream.respond({ ':status': 200 });
    stream.write('first');
    stream.on('close', () => cancelled(stream.rstCode ?? -1));
  });
  const session = h2Client(t, port);
  const stream = session.request({ ':method': 'GET', ':path': '/', ':authority': 'a' });
  stream.on('error', () => {});
  stream.once('data', () => stream.close(http2.constants.NGHTTP2_CANCEL));
  assert.equal(await upstreamClosed, http2.constants.NGHTTP2_CANCEL);
});

test('a new upstream session is opened after the old one went away', { timeout: 10_000 }, async (t) => {
  let first = true;
  const { port, upstream } = await proxied(t, (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('ok');
    if (first) {
      first = false;
      stream.session?.close(); // GOAWAY after this stream
    }
  });
  const session = h2Client(t, port);
  assert.equal((await h2Request(session, { ':method': 'GET', ':path': '/1', ':authority': 'a' })).status, 200);
  // Once the GOAWAY is in, requests go over a second session.
  await waitFor(
    async () => (await h2Request(session, { ':method': 'GET', ':path': '/n', ':authority': 'a' })).status === 200 && upstream.sessions() === 2,
    'a second upstream session',
    3000,
  );
  assert.equal(upstream.sessions(), 2);
});

test('an h2 request to a refused endpoint is 502 UPSTREAM_CONNECT_FAILED', { timeout: 10_000 }, async (t) => {
  const closedPort = await freePort();
  const { plane } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [closedPort]));
  const session = h2Client(t, plane.port('out')!);
  const res = await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'a' });
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_CONNECT_FAILED');
  assert.match(res.body, /upstream connect failed: ECONNREFUSED/);
  assert.doesNotMatch(res.body, new RegExp(`127\\.0\\.0\\.1|${closedPort}`), 'the client is not told the endpoint');
});

test('an h2 stream in flight when its listener is removed still completes', { timeout: 10_000 }, async (t) => {
  let arrived!: () => void;
  const atUpstream = new Promise<void>((r) => (arrived = r));
  const upstream = await startH2EchoServer(t, 'slow', (stream) => {
    arrived();
    stream.respond({ ':status': 200 });
    setTimeout(() => stream.end('late'), 100);
  });
  const { plane } = startDataPlane(t, 5000);
  await plane.apply(simpleConfig(0, [upstream.port]));
  const session = h2Client(t, plane.port('out')!);
  const inFlight = h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'a' });
  await atUpstream;
  await plane.apply(runtimeConfig({}));
  assert.equal((await inFlight).body, 'late');
});
