// The proxy's own HTTP/1.x server side, over raw sockets through an outbound listener: what a
// client on the wire sees (pipelining, HTTP/1.0, framing, connection reuse after the proxy's
// own answers, backpressure on a large upload).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { cluster, endpoint, httpListener, routeTable, rule, runtimeConfig, simpleConfig, virtualHost } from '../testing/config-builder.js';
import { startDataPlane, startEchoServer } from '../testing/test-servers.js';
import { H1Downstream } from './h1-downstream.js';

async function proxied(t: TestContext, handler?: http.RequestListener): Promise<number> {
  const upstream = await startEchoServer(t, 'app', handler);
  const { plane } = startDataPlane(t);
  const result = await plane.apply(simpleConfig(0, [upstream.port]));
  assert.ok(result.ok, JSON.stringify(result.failed));
  return plane.port('out')!;
}

/** Sends `bytes` on a fresh connection and collects what comes back until `done(received)` or the connection closes. */
function exchange(t: TestContext, port: number, bytes: string | Buffer, done: (received: string) => boolean = () => false): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    t.after(() => socket.destroy());
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no complete answer within 8 s; got ${JSON.stringify(text)}`)), 8000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (done(text)) {
        clearTimeout(timer);
        resolve({ text, closed: false });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', reject);
  });
}

const count = (s: string, what: string) => s.split(what).length - 1;

test('pipelined requests are answered in order on the same connection', { timeout: 15_000 }, async (t) => {
  const port = await proxied(t);
  const req = (p: string) => `GET ${p} HTTP/1.1\r\nHost: svc\r\n\r\n`;
  const { text } = await exchange(t, port, req('/one') + req('/two') + req('/three'), (s) => count(s, 'HTTP/1.1 200') === 3 && s.includes('/three'));
  const order = ['/one', '/two', '/three'].map((p) => text.indexOf(`"path":"${p}"`));
  assert.ok(
    order.every((i) => i >= 0),
    text,
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    'answers come back in request order',
  );
});

test('HTTP/1.0: the connection closes after the answer unless the client asked for keep-alive and the length is known', { timeout: 15_000 }, async (t) => {
  // res.end(body) without a head: node sets Content-Length.
  const port = await proxied(t, (req, res) => res.end(`path=${req.url}`));
  const plain = await exchange(t, port, 'GET /a HTTP/1.0\r\nHost: svc\r\n\r\n');
  assert.equal(plain.closed, true);
  assert.match(plain.text, /^HTTP\/1\.1 200 /);
  assert.match(plain.text, /\r\nconnection: close\r\n/i);
  const kept = await exchange(t, port, 'GET /b HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n\r\nGET /c HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n\r\n', (s) =>
    s.endsWith('path=/c'),
  );
  assert.equal(kept.closed, false, kept.text);
  assert.equal(count(kept.text, 'HTTP/1.1 200'), 2, kept.text);
  assert.match(kept.text, /\r\nconnection: keep-alive\r\n/i);
});

test('a response without a length is chunked to an HTTP/1.1 client and close-delimited to an HTTP/1.0 one', { timeout: 15_000 }, async (t) => {
  const port = await proxied(t, (_req, res) => {
    res.write('part-1;');
    setTimeout(() => res.end('part-2'), 10);
  });
  const v11 = await exchange(t, port, 'GET / HTTP/1.1\r\nHost: svc\r\n\r\n', (s) => s.endsWith('0\r\n\r\n'));
  assert.match(v11.text, /transfer-encoding: chunked/i);
  assert.match(v11.text, /\r\n7\r\npart-1;\r\n6\r\npart-2\r\n0\r\n\r\n$/);
  const v10 = await exchange(t, port, 'GET / HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive\r\n\r\n');
  assert.equal(v10.closed, true, 'no length: the end of the body is the end of the connection');
  assert.doesNotMatch(v10.text, /transfer-encoding/i, 'no chunked coding to an HTTP/1.0 client');
  assert.match(v10.text, /\r\n\r\npart-1;part-2$/);
});

test("the proxy's own answer before the body is read leaves the connection usable for the next request", { timeout: 15_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'app');
  const { plane } = startDataPlane(t);
  // Only /api and /after are routed: anything else is the proxy's own 404.
  const routes = [rule('api', 'app', { path: { type: 'prefix', value: '/api' } }), rule('after', 'app', { path: { type: 'prefix', value: '/after' } })];
  const applied = await plane.apply(
    runtimeConfig({
      listeners: [httpListener('out', 0)],
      routes: [routeTable('routes', [virtualHost('all', ['*'], routes)])],
      clusters: [cluster('app', [endpoint(upstream.port)])],
    }),
  );
  assert.ok(applied.ok, JSON.stringify(applied.failed));
  const port = plane.port('out')!;
  // The 404 goes out before the body is read; the body is read and dropped, then the next request is served.
  const refused = 'POST /elsewhere HTTP/1.1\r\nHost: svc\r\nContent-Length: 10\r\n\r\n0123456789';
  const next = 'GET /after HTTP/1.1\r\nHost: svc\r\n\r\n';
  const { text, closed } = await exchange(t, port, refused + next, (s) => s.includes('"/after"'));
  assert.equal(closed, false, text);
  assert.match(text, /^HTTP\/1\.1 404 /);
  assert.match(text, /x-trellis-error: NO_ROUTE/);
  assert.match(text, /HTTP\/1\.1 200 [\s\S]*"path":"\/after"/);
  assert.equal(upstream.requests, 1, 'only /after reached the upstream');
});

test('a large upload to a slow reader is streamed with backpressure and arrives whole', { timeout: 30_000 }, async (t) => {
  const port = await proxied(t, (req, res) => {
    // Reads slowly: after each piece, a pause of a millisecond.
    let received = 0;
    req.on('data', (c: Buffer) => {
      received += c.length;
      req.pause();
      setTimeout(() => req.resume(), 1);
    });
    req.on('end', () => res.end(String(received)));
  });
  const size = 8 * 1024 * 1024;
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/up', agent: false, headers: { 'content-length': size } }, (r) => {
      let body = '';
      r.on('data', (c) => (body += c));
      r.on('end', () => resolve({ status: r.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(Buffer.alloc(size, 0x61));
  });
  assert.equal(res.status, 200);
  assert.equal(res.body, String(size), 'every byte reached the upstream');
});

test('a client that sends a request head and goes away does not hold the request', { timeout: 15_000 }, async (t) => {
  let upstreamSawRequest = false;
  let upstreamSawClose = false;
  const port = await proxied(t, (req, res) => {
    upstreamSawRequest = true;
    res.on('close', () => (upstreamSawClose = true));
    req.on('data', () => {});
  });
  const socket = net.connect(port, '127.0.0.1', () => socket.write('POST /x HTTP/1.1\r\nHost: svc\r\nContent-Length: 100\r\n\r\nabc'));
  t.after(() => socket.destroy());
  for (let started = Date.now(); !upstreamSawRequest && Date.now() - started < 8000;) await new Promise((r) => setTimeout(r, 20));
  assert.equal(upstreamSawRequest, true, 'the request reached the upstream');
  socket.destroy();
  const started = Date.now();
  while (!upstreamSawClose && Date.now() - started < 8000) await new Promise((r) => setTimeout(r, 20));
  assert.equal(upstreamSawClose, true, 'the upstream exchange was cancelled');
});

test("a pause for the body's last bytes is lifted once the body ended, so the connection reads its next request", () => {
  const calls: boolean[] = [];
  const owner = { socket: {} as net.Socket, pauseReading: (paused: boolean) => void calls.push(paused), responseDone: () => {}, upgraded: () => undefined };
  const down = new H1Downstream(owner, { method: 'POST', target: '/', minor: 1, rawHeaders: [], keepAlive: true, bodyLength: 4, expectContinue: false, upgrade: undefined }, false);
  down.readBody({ onBody: () => down.pauseBody(true), onBodyEnd: () => {} }); // where the body goes is full
  down.pushBody(Buffer.from('last'));
  down.endBody();
  down.pauseBody(true);
  down.pauseBody(false); // where it went drained
  assert.deepEqual(calls, [false, true, false], 'a pause after the end is not passed on, a restart is');
});
