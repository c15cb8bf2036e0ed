// The byte relay on in-memory sockets, both directions piped (as an upgraded HTTP connection
// relays): bytes both ways, one end after both sockets closed, fail() ending both. The TCP
// terminal's own tests (tcp-relay.test.ts) cover the upstream read into the relay's buffers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSocket } from '../testing/tcp-fakes.js';
import { SocketRelay, type RelayOwner } from './socket-relay.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

class Ends implements RelayOwner {
  readonly errors: (Error | undefined)[] = [];
  relayEnded(error: Error | undefined): void {
    this.errors.push(error);
  }
}

function relay() {
  const down = new FakeSocket();
  const upstream = new FakeSocket();
  const ends = new Ends();
  const r = new SocketRelay(down.asSocket(), upstream.asSocket(), ends);
  r.start(undefined);
  return { down, upstream, ends, relay: r };
}

test('piped both ways: bytes each way, FINs passed on, one end once both closed', async () => {
  const { down, upstream, ends } = relay();
  down.receive('ping');
  upstream.receive('pong');
  await settle();
  assert.equal(upstream.text(), 'ping');
  assert.equal(down.text(), 'pong');
  down.receive(null);
  await settle();
  assert.equal(upstream.writableEnded, true, 'the client FIN ends the upstream write side');
  assert.deepEqual(ends.errors, []);
  upstream.receive('late');
  upstream.receive(null);
  await settle();
  assert.equal(down.text(), 'ponglate');
  down.destroy();
  upstream.destroy();
  await settle();
  assert.deepEqual(ends.errors, [undefined]);
});

test('fail() destroys both sockets and the end carries its error', async () => {
  const { down, upstream, ends, relay: r } = relay();
  r.fail(new Error('closed by the proxy'));
  await settle();
  assert.equal(down.destroyed, true);
  assert.equal(upstream.destroyed, true);
  assert.equal(ends.errors.length, 1);
  assert.match(ends.errors[0]!.message, /closed by the proxy/);
});

test('an error on either side ends both, reported once', async () => {
  const { down, upstream, ends } = relay();
  upstream.destroy(new Error('read ECONNRESET'));
  await settle();
  assert.equal(down.destroyed, true);
  assert.equal(ends.errors.length, 1);
  assert.match(ends.errors[0]!.message, /ECONNRESET/);
});
