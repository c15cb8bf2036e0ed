// The close layer, the one place a refusal becomes what the downstream sees: OUTBOUND_REFUSED
// answers an HTTP/1.1 client and resets others; any other refusal closes at once; relayed
// connections are left alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forbidden, noHealthyEndpoint, outboundRefused } from '../../errors.js';
import { EndRecorder, FakeSocket, fakeConnection, ServeRecorder } from '../../testing/tcp-fakes.js';
import { refusedEnd, type TcpConnection } from '../tcp-layer.js';
import { TcpCloseLayer } from './tcp-close-layer.js';

test('connections pass down untouched', () => {
  const conn = fakeConnection();
  const next = new ServeRecorder<TcpConnection>();
  new TcpCloseLayer(undefined).onConnection(conn, next);
  assert.deepEqual(next.served, [conn]);
});

for (const error of [forbidden('denied by policy'), noHealthyEndpoint('db')]) {
  test(`a ${error.code} refusal destroys the connection, then goes up`, () => {
    const socket = new FakeSocket();
    const conn = fakeConnection({ socket, detected: 'http/1.1' });
    const up = new EndRecorder<TcpConnection>();
    const end = refusedEnd(conn, error);
    new TcpCloseLayer(undefined).onEnd(conn, end, up);
    assert.equal(socket.destroyed, true);
    assert.equal(socket.resets, 0);
    assert.equal(socket.written.length, 0);
    assert.deepEqual(up.ends, [{ target: conn, end }]);
  });
}

test("OUTBOUND_REFUSED answers an HTTP/1.1 client with the proxy's error response", () => {
  const socket = new FakeSocket();
  const conn = fakeConnection({ socket, detected: 'http/1.1', originalDst: { address: '203.0.113.7', port: 80 } });
  new TcpCloseLayer(undefined).onEnd(conn, refusedEnd(conn, outboundRefused('203.0.113.7:80')), new EndRecorder());
  assert.match(socket.text(), /^HTTP\/1\.1 502 /);
  assert.match(socket.text(), /x-trellis-error: OUTBOUND_REFUSED/i);
  assert.equal(socket.resets, 0);
});

for (const detected of ['opaque', 'tls', 'h2c', undefined] as const) {
  test(`OUTBOUND_REFUSED resets a ${detected ?? 'not sniffed'} connection`, () => {
    const socket = new FakeSocket();
    const conn = fakeConnection({ socket, ...(detected ? { detected } : {}) });
    new TcpCloseLayer(undefined).onEnd(conn, refusedEnd(conn, outboundRefused('203.0.113.7:5432')), new EndRecorder());
    assert.equal(socket.resets, 1);
    assert.equal(socket.written.length, 0);
  });
}

test("a relayed connection's end is passed up without touching the socket", () => {
  const socket = new FakeSocket();
  const conn = fakeConnection({ socket });
  const up = new EndRecorder<TcpConnection>();
  const end = { received: 5, sent: 6, durationMs: 7, error: new Error('ECONNRESET') };
  new TcpCloseLayer(undefined).onEnd(conn, end, up);
  assert.equal(socket.destroyed, false);
  assert.deepEqual(up.ends, [{ target: conn, end }]);
});
