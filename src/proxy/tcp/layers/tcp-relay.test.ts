// The relay terminal, on in-memory sockets and fake timers: bytes both ways, the half-close
// passed on, one end after both sockets closed (bytes, duration, the error), a failure on
// either side ends both, and the connect timeout.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { EndRecorder, FakeSocket, fakeCluster, fakeConnection, fakeEndpoint } from '../../testing/tcp-fakes.js';
import type { EndpointTarget } from '../tcp-layer.js';
import { tcpRelay } from './tcp-relay.js';

/** Lets stream callbacks (nextTick, microtasks) run; no time passes. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

function relay(t: TestContext, connectTimeoutMs = 0) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  const down = new FakeSocket();
  const upstream = new FakeSocket();
  const endpoint = fakeEndpoint(upstream);
  const target: EndpointTarget = { conn: fakeConnection({ socket: down }), cluster: fakeCluster('db', [], { connectTimeoutMs }), endpoint };
  const up = new EndRecorder<EndpointTarget>();
  tcpRelay.onConnection(target, up);
  return { down, upstream, endpoint, target, up };
}

test('bytes flow both ways, each FIN is passed on, and the end comes once both sides closed', async (t) => {
  const { down, upstream, endpoint, target, up } = relay(t);
  assert.equal(endpoint.dials, 1);
  assert.equal(endpoint.active, 1);
  down.receive('hello');
  down.receive(null);
  await settle();
  assert.equal(upstream.text(), 'hello');
  assert.equal(upstream.writableEnded, true, 'the client FIN ends the upstream write side');
  assert.equal(up.ends.length, 0, 'the reply may still flow back');
  upstream.receive('echo:hello');
  t.mock.timers.tick(250);
  upstream.receive(null);
  await settle();
  assert.equal(down.text(), 'echo:hello');
  assert.equal(up.ends.length, 1);
  assert.equal(up.ends[0]!.target, target);
  assert.deepEqual(up.ends[0]!.end, { received: 5, sent: 10, durationMs: 250 });
  assert.equal(endpoint.active, 0);
});

test('an upstream error destroys both sockets and is reported in the end', async (t) => {
  const { down, upstream, endpoint, up } = relay(t);
  down.receive('query');
  await settle();
  upstream.destroy(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  await settle();
  assert.equal(down.destroyed, true);
  assert.equal(up.ends.length, 1);
  assert.equal((up.ends[0]!.end.error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.equal(up.ends[0]!.end.received, 5);
  assert.equal(endpoint.active, 0);
});

test('a downstream error destroys the upstream too', async (t) => {
  const { down, upstream, up } = relay(t);
  down.destroy(new Error('read ECONNRESET'));
  await settle();
  assert.equal(upstream.destroyed, true);
  assert.match(up.ends[0]!.end.error!.message, /ECONNRESET/);
});

test('an upstream closed without error while the client still sends (a reset) ends the client too', async (t) => {
  const { down, upstream, up } = relay(t);
  upstream.destroy();
  await settle();
  assert.equal(down.destroyed, true);
  assert.equal(up.ends.length, 1);
  assert.equal(up.ends[0]!.end.error, undefined);
});

test('an upstream that does not connect in time is destroyed with ETIMEDOUT', async (t) => {
  const { down, upstream, up } = relay(t, 500);
  t.mock.timers.tick(499);
  await settle();
  assert.equal(upstream.destroyed, false);
  t.mock.timers.tick(1);
  await settle();
  assert.equal(upstream.destroyed, true);
  assert.equal(down.destroyed, true);
  const error = up.ends[0]!.end.error as NodeJS.ErrnoException;
  assert.equal(error.code, 'ETIMEDOUT');
  assert.match(error.message, /connect to 10\.1\.0\.5:9000 timed out after 500 ms/);
});

test('once connected, the connect timeout no longer applies', async (t) => {
  const { upstream, up } = relay(t, 500);
  upstream.emit('connect');
  t.mock.timers.tick(10_000);
  await settle();
  assert.equal(upstream.destroyed, false);
  assert.equal(up.ends.length, 0);
  upstream.destroy();
  await settle();
});
