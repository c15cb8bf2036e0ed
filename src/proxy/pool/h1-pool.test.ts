// The HTTP/1.1 pool when its endpoint leaves the config (retire): a connection still dialling
// gives its request up as ENDPOINT_GONE, retryable (it never went out, so the forwarder and the
// retry layer send it to another endpoint); a connection that is up finishes its exchange.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { test } from 'node:test';
import type { ProxyError } from '../errors.js';
import { FakeSocket } from '../testing/tcp-fakes.js';
import type { Dialer, H1Exchange } from './h1-connection.js';
import { H1Pool } from './h1-pool.js';

class FakeDialer implements Dialer {
  readonly sockets: FakeSocket[] = [];
  dial(): net.Socket {
    const s = new FakeSocket(true);
    this.sockets.push(s);
    return s as unknown as net.Socket;
  }
}

class ExchangeRecorder implements H1Exchange {
  readonly failures: { error: ProxyError; retryable: boolean }[] = [];
  onExchangeError(error: ProxyError, retryable: boolean): void {
    this.failures.push({ error, retryable });
  }
  onResponseWaiting(): void {}
  onResponseHead(): void {}
  onResponseContinue(): void {}
  onResponseBody(): void {}
  onResponseComplete(): void {}
  onUpgrade(): void {}
}

function dispatched(pool: H1Pool) {
  const conn = pool.acquire(0);
  const exchange = new ExchangeRecorder();
  conn.dispatch(exchange, 'GET / HTTP/1.1\r\nhost: a\r\n\r\n', false, true);
  return { conn, exchange };
}

test('retiring the pool fails the exchanges of connections still dialling as ENDPOINT_GONE, retryable, and closes them', () => {
  const dialer = new FakeDialer();
  const pool = new H1Pool('10.1.0.1:8080', '10.1.0.1', 8080, dialer);
  const a = dispatched(pool);
  const b = dispatched(pool);
  assert.equal(pool.live, 2);
  pool.retire();
  for (const { exchange, conn } of [a, b]) {
    assert.equal(exchange.failures.length, 1);
    assert.equal(exchange.failures[0]!.error.code, 'ENDPOINT_GONE');
    assert.equal(exchange.failures[0]!.retryable, true);
    assert.equal(exchange.failures[0]!.error.unprocessed, undefined, 'the forwarder decides (a body may have been taken)');
    assert.equal(conn.destroyed, true);
  }
  assert.equal(pool.live, 0);
});

test('a connection that is up keeps its exchange when the pool retires', () => {
  const dialer = new FakeDialer();
  const pool = new H1Pool('10.1.0.1:8080', '10.1.0.1', 8080, dialer);
  const up = dispatched(pool);
  dialer.sockets[0]!.emit('secureConnect');
  const dialling = dispatched(pool);
  pool.retire();
  assert.deepEqual(up.exchange.failures, []);
  assert.equal(up.conn.destroyed, false);
  assert.equal(dialling.exchange.failures.length, 1);
  assert.equal(pool.live, 1);
});
