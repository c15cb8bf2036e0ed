// One direction of a relay on in-memory sockets: reads reuse one buffer while the destination
// keeps up, a write in flight stops the reads (and its bytes stay intact, also when a TLS source
// hands on more after that), the FIN follows the bytes before it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSocket } from '../testing/tcp-fakes.js';
import { ReadIntoCopy } from './read-into-copy.js';

/** Lets stream callbacks (nextTick, setImmediate) run; no time passes. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A copy from a source dialled with it (reads of 4 bytes) to a fake destination. */
function copy(tls = false) {
  const from = new FakeSocket(tls);
  const to = new FakeSocket();
  from.readBytes = 4;
  const relay = new ReadIntoCopy(to.asSocket());
  from.readInto(relay);
  relay.start(from.asSocket());
  return { from, to, relay };
}

test('while the destination takes each write at once, every read goes into the same buffer', async () => {
  const { from, to } = copy();
  from.receive('hello, world');
  from.receive('!');
  await settle();
  assert.equal(to.text(), 'hello, world!');
  assert.equal(from.readBuffers.length, 4);
  assert.equal(new Set(from.readBuffers).size, 1);
});

test('a write in flight stops the reads: the bytes after it wait in the source, then arrive intact and in order', async () => {
  const { from, to } = copy();
  to.holdWrites = true;
  from.receive('aaaabbbbcccc');
  await settle();
  assert.equal(from.readBuffers.length, 1, 'one read, then none while its write is in flight');
  assert.equal(to.writableLength, 4, 'at most one read of bytes in flight');
  to.holdWrites = false;
  to.completeWrites();
  await settle();
  assert.equal(to.text(), 'aaaabbbbcccc');
  assert.ok(new Set(from.readBuffers).size <= 2, 'the buffer of the write in flight and one other');
});

test('a TLS source that hands on more after reads stopped reads it into other buffers: the bytes in flight stay intact', async () => {
  const { from, to } = copy(true);
  to.holdWrites = true;
  from.receive('aaaabbbbcccc');
  await settle();
  assert.equal(from.readBuffers.length, 3, 'all of what it had decrypted');
  assert.equal(new Set(from.readBuffers).size, 3, 'no buffer read into while a write holds it');
  to.holdWrites = false;
  to.completeWrites();
  from.receive('dddd');
  await settle();
  assert.equal(to.text(), 'aaaabbbbccccdddd');
});

test('the source FIN ends the destination after the bytes before it', async () => {
  const { from, to } = copy();
  to.holdWrites = true;
  from.receive('last');
  from.receive(null);
  await settle();
  assert.equal(to.writableEnded, false, 'the FIN waits behind the write in flight');
  to.completeWrites();
  await settle();
  assert.equal(to.text(), 'last');
  assert.equal(to.writableEnded, true);
});

test('a read into a buffer a write still holds (the runtime kept the buffer) fails the destination instead of sending other bytes', async () => {
  const to = new FakeSocket();
  const relay = new ReadIntoCopy(to.asSocket());
  relay.start(new FakeSocket().asSocket());
  const errors: Error[] = [];
  to.on('error', (e: Error) => errors.push(e));
  to.holdWrites = true;
  const buffer = relay.nextBuffer(4);
  buffer.write('aaaa');
  assert.equal(relay.onRead(4, buffer), false);
  buffer.write('bbbb'); // the same buffer again, without asking nextBuffer
  assert.equal(relay.onRead(4, buffer), false);
  await settle();
  assert.equal(to.destroyed, true);
  assert.match(errors[0]!.message, /read into a buffer still being written/);
});
