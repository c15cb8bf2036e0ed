// The downstream HTTP/1.x connection driven by a fake socket and a fake listener: the sweep's
// deadlines (request head, keep-alive, a request in flight that saw no byte either way) and the
// checks on a response head before it is written. No sockets, no timers: the sweep is called
// with the times the test chooses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { H1Downstream } from '../http/h1-downstream.js';
import { FakeSocket } from '../testing/tcp-fakes.js';
import { DEFAULT_DOWNSTREAM_LIMITS, type DownstreamLimits, type RejectReason } from './downstream-limits.js';
import { H1ServerConnection, type H1ConnectionHost } from './h1-server-connection.js';

function connection(limits: Partial<DownstreamLimits> = {}) {
  const socket = new FakeSocket();
  const served: H1Downstream[] = [];
  const rejected: RejectReason[] = [];
  const host: H1ConnectionHost = {
    limits: { ...DEFAULT_DOWNSTREAM_LIMITS, ...limits },
    draining: false,
    serve: (down) => void served.push(down),
    rejected: (reason) => void rejected.push(reason),
    closed: () => {},
  };
  const conn = new H1ServerConnection(socket.asSocket(), host, undefined);
  return { socket, conn, served, rejected };
}

const GET = 'GET / HTTP/1.1\r\nhost: a\r\n\r\n';

/** The client sends `text`; resolves once the connection has read it (the fake socket delivers on a later tick). */
async function send(socket: FakeSocket, text: string): Promise<void> {
  socket.receive(text);
  await new Promise((resolve) => setImmediate(resolve));
}

test('a request in flight that sees no byte either way for the idle timeout closes its connection', async () => {
  const { socket, conn, served, rejected } = connection({ idleTimeoutMs: 1000 });
  await send(socket, GET);
  assert.equal(served.length, 1);
  const t0 = Date.now();
  conn.check(t0); // the sweep starts watching the request
  conn.check(t0 + 900);
  assert.equal(socket.destroyed, false);
  conn.check(t0 + 1001);
  assert.equal(socket.destroyed, true);
  assert.deepEqual(rejected, ['idle_timeout']);
});

test('bytes either way keep a request in flight alive', async () => {
  const { socket, conn, served } = connection({ idleTimeoutMs: 1000 });
  await send(socket, 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\n');
  const t0 = Date.now();
  conn.check(t0);
  await send(socket, '12345'); // part of the body
  conn.check(t0 + 800);
  conn.check(t0 + 1600);
  assert.equal(socket.destroyed, false);
  served[0]!.writeHead(200, '', ['content-length', '2']);
  served[0]!.flushHead(); // the response head goes out: activity
  conn.check(t0 + 2500);
  assert.equal(socket.destroyed, false);
  conn.check(t0 + 3600);
  assert.equal(socket.destroyed, true);
});

test('a head past its deadline gets 408; an idle keep-alive connection closes after its timeout', async () => {
  const slow = connection({ requestHeadTimeoutMs: 500 });
  await send(slow.socket, 'GET / HTTP/1.1\r\n');
  slow.conn.check(Date.now() + 501);
  assert.match(slow.socket.text(), /^HTTP\/1\.1 408 /);
  assert.deepEqual(slow.rejected, ['head_timeout']);

  const idle = connection({ keepAliveTimeoutMs: 1000 });
  await send(idle.socket, GET);
  idle.served[0]!.sendResponse(200, [], 'ok');
  assert.match(idle.socket.text(), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
  idle.conn.check(Date.now() + 900);
  assert.equal(idle.socket.destroyed, false);
  idle.conn.check(Date.now() + 1100);
  assert.equal(idle.socket.destroyed, true);
  assert.deepEqual(idle.rejected, []);
});

test('a response head with a control character or a line break in a value, the reason or a bad name is refused before any byte is written', async () => {
  for (const [reason, headers] of [
    ['', ['x-a', 'one\r\nx-injected: yes']],
    ['', ['x-a', 'bare\nlf']],
    ['', ['x-a', 'nul\0']],
    ['OK\r\nx-injected: yes', []],
    ['', ['bad name', 'v']],
  ] as const) {
    const { socket, served } = connection();
    await send(socket, GET);
    assert.throws(() => served[0]!.writeHead(200, reason, headers), /invalid/);
    served[0]!.flushHead();
    assert.equal(socket.text(), '', JSON.stringify(headers));
  }
  const { socket, served } = connection();
  await send(socket, GET);
  served[0]!.writeHead(200, 'Fine', ['x-tab', 'a\tb', 'content-length', '0']);
  served[0]!.end(undefined, undefined);
  assert.equal(socket.text(), 'HTTP/1.1 200 Fine\r\nx-tab: a\tb\r\ncontent-length: 0\r\n\r\n');
});

test('an upgraded connection reads no more HTTP, outlives a drain, and still meets the idle timeout', async () => {
  const { socket, conn, served, rejected } = connection({ idleTimeoutMs: 1000 });
  await send(socket, 'GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  const { early } = served[0]!.switchProtocols('', [], 'websocket');
  assert.equal(early, undefined);
  assert.equal(socket.text(), 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  await send(socket, GET);
  assert.equal(served.length, 1, 'bytes after the switch are not parsed as requests');
  conn.drain();
  assert.equal(socket.destroyed, false, 'a drain leaves it to the listener grace period');
  const t0 = Date.now();
  conn.check(t0);
  conn.check(t0 + 900);
  assert.equal(socket.destroyed, false);
  conn.check(t0 + 1001);
  assert.equal(socket.destroyed, true);
  assert.deepEqual(rejected, ['idle_timeout']);
});
