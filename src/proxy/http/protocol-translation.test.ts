// Protocol translation over loopback: a cluster that declares its endpoints' protocol
// (upstreamProtocol) gets it whatever the client speaks. Heads and bodies cross both ways, and
// failures map as on the untranslated paths: a reset or GOAWAY before the response is a 502, a
// reset during it breaks off the client's response, and gRPC to HTTP/1.1 is UNIMPLEMENTED.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import { h2Client, h2Request, request, startEchoServer, startH2EchoServer, startRoutedPlane, type Echo } from '../testing/test-servers.js';

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

test('an HTTP/1.1 client reaches an h2c-only upstream: method, path, authority, fields and body', { timeout: 10_000 }, async (t) => {
  const upstream = await startH2EchoServer(t);
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'h2' });
  const res = await request(port, { method: 'POST', path: '/p?q=1', headers: { host: 'svc.mesh:8080', 'x-custom': 'v', connection: 'keep-alive' }, body: 'z'.repeat(100_000) });
  assert.equal(res.status, 200);
  const echo = JSON.parse(res.body) as Echo;
  assert.deepEqual([echo.method, echo.path, echo.headers[':authority'], echo.headers['x-custom']], ['POST', '/p?q=1', 'svc.mesh:8080', 'v']);
  assert.equal(echo.body.length, 100_000);
  assert.equal(echo.headers['connection'], undefined);
});

test('an h2c client reaches an HTTP/1.1-only upstream: request line, Host and body', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'http/1.1' });
  const session = h2Client(t, port);
  const res = await h2Request(session, { ':method': 'PUT', ':path': '/u?x=2', ':authority': 'svc.mesh:8080', 'x-custom': 'v' }, 'w'.repeat(100_000));
  assert.equal(res.status, 200);
  assert.equal(res.headers['connection'], undefined);
  const echo = JSON.parse(res.body) as Echo;
  assert.deepEqual([echo.method, echo.path, echo.headers.host, echo.headers['x-custom'], echo.headers['transfer-encoding']], ['PUT', '/u?x=2', 'svc.mesh:8080', 'v', 'chunked']);
  assert.equal(echo.body.length, 100_000);
});

test('an h2 upstream resetting the stream before a response is a 502 UPSTREAM_RESET for an HTTP/1.1 client', { timeout: 10_000 }, async (t) => {
  const upstream = await startH2EchoServer(t, 'reset', (stream) => stream.close(NGHTTP2_INTERNAL_ERROR));
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'h2' });
  const res = await request(port, { path: '/' });
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_RESET');
});

test(
  'an h2 upstream going away (GOAWAY, then the connection closes) instead of a response is a 502 for an HTTP/1.1 client, as a closed HTTP/1 connection is',
  { timeout: 10_000 },
  async (t) => {
    const upstream = await startH2EchoServer(t, 'goaway', (stream) => {
      const session = stream.session!;
      session.goaway(NGHTTP2_NO_ERROR);
      setImmediate(() => session.destroy());
    });
    const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'h2' });
    const res = await request(port, { path: '/' });
    assert.equal(res.status, 502);
    assert.match(String(res.headers['x-trellis-error']), /^UPSTREAM_(RESET|CONNECT_FAILED)$/);
  },
);

test('an h2 upstream resetting during the response breaks off the HTTP/1.1 client response', { timeout: 10_000 }, async (t) => {
  const upstream = await startH2EchoServer(t, 'midway', (stream) => {
    stream.respond({ ':status': 200 });
    stream.write('part');
    setTimeout(() => stream.destroy(new Error('upstream failure')), 20); // RST_STREAM INTERNAL_ERROR
  });
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'h2' });
  await assert.rejects(request(port, { path: '/' }), /aborted|socket hang up|ECONNRESET/);
});

test('an HTTP/1.1 upstream closing before its response is a 502 UPSTREAM_RESET for an h2c client', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'closer', (req) => req.socket.destroy());
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'http/1.1' });
  const res = await h2Request(h2Client(t, port), { ':method': 'GET', ':path': '/', ':authority': 'a' });
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_RESET');
});

/** The raw bytes of the answer to `GET /` with `extra` header lines, on a connection that closes after it. */
function rawGet(port: number, extra: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET / HTTP/1.1\r\nhost: a\r\n${extra}connection: close\r\n\r\n`));
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

test('HTTP/1.1 chunked trailers reach an h2c client as trailers, HTTP/2 trailers an HTTP/1.1 client that takes them as chunked trailers', { timeout: 10_000 }, async (t) => {
  const h1 = await startEchoServer(t, 'h1trailers', (_req, res) => {
    res.writeHead(200, { trailer: 'x-sum' });
    res.write('body');
    res.addTrailers({ 'x-sum': '42' });
    res.end();
  });
  const toH1 = await startRoutedPlane(t, [h1.port], {}, { upstreamProtocol: 'http/1.1' });
  const fromH1 = await h2Request(h2Client(t, toH1.port), { ':method': 'GET', ':path': '/', ':authority': 'a', te: 'trailers' });
  assert.equal(fromH1.body, 'body');
  assert.equal(fromH1.trailers?.['x-sum'], '42');

  const h2 = await startH2EchoServer(t, 'h2trailers', (stream) => {
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'x-sum': '43' }));
    stream.end('body');
  });
  const toH2 = await startRoutedPlane(t, [h2.port], {}, { upstreamProtocol: 'h2' });
  const raw = await rawGet(toH2.port, 'te: trailers\r\n');
  assert.match(raw, /transfer-encoding: chunked/);
  assert.match(raw, /\r\n0\r\nx-sum: 43\r\n\r\n$/);
  const withoutTe = await rawGet(toH2.port, '');
  assert.match(withoutTe, /\r\nbody\r\n0\r\n\r\n$/, 'a client that did not send te: trailers gets none');
});

test('gRPC to an HTTP/1.1 cluster is answered UNIMPLEMENTED at once, naming the protocol; the upstream never sees it', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'http/1.1' });
  const res = await h2Request(h2Client(t, port), { ':method': 'POST', ':path': '/pkg.Svc/Call', ':authority': 'a', 'content-type': 'application/grpc', te: 'trailers' }, '');
  assert.equal(res.status, 200);
  assert.equal(res.headers['grpc-status'], '12');
  assert.match(String(res.headers['grpc-message']), /gRPC needs HTTP\/2 end to end, but cluster app speaks HTTP\/1\.1/);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_PROTOCOL_MISMATCH');
  assert.equal(upstream.requests, 0);
});

test('an HTTP/1.1 upstream closing during its response resets the h2c client stream', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'midway', (_req, res) => {
    res.writeHead(200);
    res.write('part');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'http/1.1' });
  await assert.rejects(h2Request(h2Client(t, port), { ':method': 'GET', ':path': '/', ':authority': 'a' }), /stream reset with code 2/);
});

test('bodiless answers cross both ways: 204, and HEAD with the length of the body it does not carry', { timeout: 10_000 }, async (t) => {
  const h1 = await startEchoServer(t, 'h1', (req, res) => {
    if (req.url === '/none') res.writeHead(204).end();
    else res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const toH1 = await startRoutedPlane(t, [h1.port], {}, { upstreamProtocol: 'http/1.1' });
  const session = h2Client(t, toH1.port);
  assert.equal((await h2Request(session, { ':method': 'GET', ':path': '/none', ':authority': 'a' })).status, 204);
  const head = await h2Request(session, { ':method': 'HEAD', ':path': '/', ':authority': 'a' });
  assert.deepEqual([head.status, head.headers['content-length'], head.body], [200, '5', '']);

  const h2 = await startH2EchoServer(t, 'h2', (stream, headers) => {
    if (headers[':path'] === '/none') return void stream.respond({ ':status': 204 }, { endStream: true });
    stream.respond({ ':status': 200, 'content-length': '5' }, { endStream: headers[':method'] === 'HEAD' });
    if (headers[':method'] !== 'HEAD') stream.end('hello');
  });
  const toH2 = await startRoutedPlane(t, [h2.port], {}, { upstreamProtocol: 'h2' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  assert.equal((await request(toH2.port, { path: '/none', agent })).status, 204);
  const h1Head = await request(toH2.port, { method: 'HEAD', path: '/', agent });
  assert.deepEqual([h1Head.status, h1Head.headers['content-length'], h1Head.body], [200, '5', '']);
  assert.equal((await request(toH2.port, { path: '/', agent })).body, 'hello', 'the connection is still in step after them');
});

test('an HTTP/1.1 upstream connection paused for a response body the h2c client is slow to take is reused after it', { timeout: 20_000 }, async (t) => {
  // Several chunks, the last one included, often arrive in one read while the client's stream
  // is full: the connection is paused in that read, and must read again once back in the pool.
  const piece = Buffer.alloc(16 * 1024, 7);
  const body = Buffer.concat(Array(6).fill(piece) as Buffer[]);
  const upstream = await startEchoServer(t, 'big', (_req, res) => {
    res.writeHead(200);
    for (let i = 0; i < 6; i++) res.write(piece);
    res.end();
  });
  const { port } = await startRoutedPlane(t, [upstream.port], {}, { upstreamProtocol: 'http/1.1' });
  const session = h2Client(t, port);
  for (let i = 0; i < 30; i++) {
    const res = await h2Request(session, { ':method': 'GET', ':path': `/${i}`, ':authority': 'a' });
    assert.equal(res.body.length, body.length, `response ${i}`);
  }
  assert.ok(upstream.connections < 30, `the upstream connection was reused (${upstream.connections} for 30 requests)`);
});
