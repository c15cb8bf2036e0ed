// HTTP/1.1 through an outbound listener to an in-process upstream: what arrives upstream and
// what comes back, over real sockets on 127.0.0.1.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { simpleConfig } from '../testing/config-builder.js';
import { request, startDataPlane, startEchoServer, type Echo } from '../testing/test-servers.js';

async function proxied(t: import('node:test').TestContext, handler?: http.RequestListener) {
  const upstream = await startEchoServer(t, 'app', handler);
  const { plane } = startDataPlane(t);
  const result = await plane.apply(simpleConfig(0, [upstream.port]));
  assert.ok(result.ok, JSON.stringify(result.failed));
  return { upstream, plane, port: plane.port('out')! };
}

test('a GET reaches the upstream with its path, query and headers', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const res = await request(port, { path: '/a/b?x=1&y=2', headers: { 'x-custom': 'v1', host: 'svc.mesh' } });
  assert.equal(res.status, 200);
  const echo = JSON.parse(res.body) as Echo;
  assert.equal(echo.method, 'GET');
  assert.equal(echo.path, '/a/b?x=1&y=2');
  assert.equal(echo.headers['x-custom'], 'v1');
  assert.equal(echo.headers['host'], 'svc.mesh');
  assert.equal(res.headers['x-served-by'], 'app');
  assert.equal(res.headers['x-trellis-error'], undefined);
});

test('a POST body with content-length arrives whole', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const body = 'x'.repeat(100_000);
  const res = await request(port, { method: 'POST', path: '/upload', body, headers: { 'content-type': 'text/plain' } });
  const echo = JSON.parse(res.body) as Echo;
  assert.equal(echo.method, 'POST');
  assert.equal(echo.body, body);
  assert.equal(echo.headers['content-length'], String(body.length));
});

test('a chunked request body is re-chunked upstream and arrives whole', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const echo = await new Promise<Echo>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/c', agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve(JSON.parse(data) as Echo));
    });
    req.on('error', reject);
    req.write('part1-');
    setTimeout(() => req.end('part2'), 20);
  });
  assert.equal(echo.body, 'part1-part2');
  assert.equal(echo.headers['transfer-encoding'], 'chunked');
});

test('hop-by-hop request headers are not forwarded', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const res = await request(port, {
    headers: { connection: 'keep-alive, x-private', 'x-private': 'secret', 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers, deflate', 'x-kept': 'yes' },
  });
  const echo = JSON.parse(res.body) as Echo;
  assert.equal(echo.headers['x-private'], undefined);
  assert.equal(echo.headers['keep-alive'], undefined);
  assert.equal(echo.headers['proxy-connection'], undefined);
  assert.equal(echo.headers['te'], 'trailers');
  assert.equal(echo.headers['x-kept'], 'yes');
});

test('a chunked response streams through with its trailers', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
    res.write('hello ');
    setTimeout(() => {
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end('world');
    }, 20);
  });
  const result = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ body, trailers: res.trailers }));
      })
      .on('error', reject);
  });
  assert.equal(result.body, 'hello world');
  assert.equal(result.trailers['x-checksum'], 'abc');
});

test('HEAD, 204 and 304 responses carry no body and keep the connection usable', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t, (req, res) => {
    if (req.url === '/204') res.writeHead(204).end();
    else if (req.url === '/304') res.writeHead(304, { etag: '"x"' }).end();
    else res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const head = await request(port, { method: 'HEAD', agent });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '5');
  assert.equal(head.body, '');
  assert.equal((await request(port, { path: '/204', agent })).status, 204);
  const notModified = await request(port, { path: '/304', agent });
  assert.equal(notModified.status, 304);
  assert.equal(notModified.headers['etag'], '"x"');
  const after = await request(port, { path: '/', agent });
  assert.equal(after.body, 'hello');
});

test('Expect: 100-continue gets a 100 and the body reaches the upstream', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const echo = await new Promise<Echo>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/e', agent: false, headers: { expect: '100-continue', 'content-length': '4' } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve(JSON.parse(data) as Echo));
    });
    req.on('continue', () => req.end('body'));
    req.on('error', reject);
  });
  assert.equal(echo.body, 'body');
  assert.equal(echo.headers['expect'], undefined);
});

test('upstream connections are reused across sequential requests (keep-alive)', { timeout: 10_000 }, async (t) => {
  const { port, upstream } = await proxied(t);
  for (let i = 0; i < 20; i++) assert.equal((await request(port, { path: `/${i}` })).status, 200);
  assert.equal(upstream.requests, 20);
  assert.equal(upstream.connections, 1, 'one upstream connection carried all 20 requests');
});

test('a large response body is relayed intact', { timeout: 10_000 }, async (t) => {
  const big = Buffer.alloc(5_000_000, 'abcdefghij').toString();
  const { port } = await proxied(t, (_req, res) => res.writeHead(200, { 'content-length': String(big.length) }).end(big));
  const res = await request(port);
  assert.equal(res.body.length, big.length);
  assert.equal(res.body, big);
});

test('a client that goes away cancels the upstream request', { timeout: 10_000 }, async (t) => {
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  let arrived!: () => void;
  const atUpstream = new Promise<void>((r) => (arrived = r));
  const { port } = await proxied(t, (req) => {
    req.socket.once('close', () => upstreamClosed());
    arrived();
  });
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
  await atUpstream;
  socket.destroy();
  await closed;
});

test('an upstream reset after the head breaks off the downstream response', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
    setTimeout(() => res.socket!.destroy(), 20);
  });
  await assert.rejects(request(port), /aborted|ECONNRESET|socket hang up/);
});

/** A raw upstream that answers the first request on each connection and drops the connection on the second. */
async function startOneShotUpstream(t: import('node:test').TestContext): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    let requests = 0;
    s.on('data', (d: Buffer) => {
      if (!d.includes('\r\n\r\n')) return;
      if (++requests === 1) s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else s.destroy();
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

/** A second request whose pooled connection the upstream closed meanwhile: it must arrive whole over a new one. */
async function loseTheKeepAliveRace(t: import('node:test').TestContext, direction: 'inbound' | 'outbound') {
  const upstream = await startOneShotUpstream(t);
  const { plane, metrics } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [upstream.port], { listener: { direction } }));
  const port = plane.port('out')!;
  assert.equal((await request(port)).body, 'ok');
  const second = await request(port);
  assert.equal(second.status, 200);
  assert.equal(second.body, 'ok');
  assert.equal(upstream.connections(), 2);
  return metrics;
}

test('a reused connection dropped before answering is retried on a fresh one (no body)', { timeout: 10_000 }, async (t) => {
  await loseTheKeepAliveRace(t, 'outbound');
});

test('inbound too, the keep-alive race with the app is retried on a fresh connection, and counted', { timeout: 10_000 }, async (t) => {
  const metrics = await loseTheKeepAliveRace(t, 'inbound');
  assert.match(await metrics.text(), /trellis_retries_total\{[^}]*reason="reused-connection"[^}]*\} 1\n/);
});

test('a request with a body is not retried when its reused connection drops', { timeout: 10_000 }, async (t) => {
  const upstream = await startOneShotUpstream(t);
  const { plane } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [upstream.port]));
  const port = plane.port('out')!;
  await request(port);
  const res = await request(port, { method: 'POST', body: 'payload' });
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_RESET');
});

test('concurrent requests open parallel upstream connections and then reuse them', { timeout: 10_000 }, async (t) => {
  const { port, upstream } = await proxied(t, (_req, res) => setTimeout(() => res.end('x'), 20));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 4 }, () => request(port, { agent })));
  assert.equal(upstream.requests, 12);
  assert.equal(upstream.connections, 4);
});

test('a response head goes downstream at once when its body is slow to follow', { timeout: 10_000 }, async (t) => {
  // The upstream sends the rest of the body only once the client has the head: a proxy that held
  // the head for the body would never answer.
  let headSeen: () => void = () => {};
  const clientHasHead = new Promise<void>((resolve) => (headSeen = resolve));
  const { port } = await proxied(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
    res.flushHeaders();
    void clientHasHead.then(() => res.end('hello world'));
  });
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        headSeen();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  assert.equal(body, 'hello world');
});

test('a response head node:http cannot relay is 502, and the proxy keeps serving', { timeout: 10_000 }, async (t) => {
  const server = net.createServer((s) => {
    s.on('data', () => s.write('HTTP/1.1 200 OK\r\nBad Header Name: x\r\ncontent-length: 2\r\n\r\nok'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { plane } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [(server.address() as net.AddressInfo).port]));
  for (let i = 0; i < 2; i++) {
    const res = await request(plane.port('out')!);
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-trellis-error'], 'UPSTREAM_PROTOCOL_ERROR');
    assert.match(res.body, /response could not be relayed/);
  }
});

/** A raw client connection: sends `text`, resolves with what arrived once it matches `until`. */
function rawExchange(socket: net.Socket, text: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (c: Buffer) => {
      got += c.toString('latin1');
      if (until.test(got)) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

test('an upgrade answered 101 becomes a byte relay; answered otherwise, its upstream connection is never reused', { timeout: 10_000 }, async (t) => {
  const { upstream, port } = await proxied(t);
  // Upgraded sockets are the test's to close (the server's close would wait for them).
  const taken: net.Socket[] = [];
  upstream.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    taken.push(socket);
    if (req.url === '/refuse') {
      // Left open: a proxy that pooled this connection would send its next request into a dead end.
      socket.write('HTTP/1.1 426 Upgrade Required\r\ncontent-length: 2\r\n\r\nno');
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\nx-seen-upgrade: ${req.headers.upgrade}\r\n\r\nhello`);
    socket.on('data', (d: Buffer) => socket.write('echo:' + d.toString()));
  });
  const client = net.connect(port, '127.0.0.1');
  try {
    await upgradeThenRefuse(client, port, upstream);
  } finally {
    client.destroy();
    for (const s of taken) s.destroy();
  }
});

async function upgradeThenRefuse(client: net.Socket, port: number, upstream: { readonly connections: number }): Promise<void> {
  const upgrade = 'GET /ws HTTP/1.1\r\nhost: svc\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n';
  const head = await rawExchange(client, upgrade, /\r\n\r\nhello$/);
  assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(head, /\r\nx-seen-upgrade: websocket\r\n/);
  assert.match(head, /\r\nconnection: upgrade\r\nupgrade: websocket\r\n/);
  assert.match(await rawExchange(client, 'frame-1', /echo:frame-1$/), /echo:frame-1$/);

  const refused = net.connect(port, '127.0.0.1');
  const answer = await rawExchange(refused, upgrade.replace('/ws', '/refuse'), /\r\n\r\nno$/);
  assert.match(answer, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  const before = upstream.connections;
  const res = await request(port, { path: '/after' });
  assert.equal(res.status, 200);
  assert.equal(upstream.connections, before + 1, 'the plain request went over a new connection');
  refused.destroy();
}
