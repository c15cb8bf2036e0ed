// One direction of a relay on in-memory sockets: the reads of one turn of the loop go out as
// one write, reads reuse one buffer while the destination keeps up, a write in flight stops the
// reads (and its bytes stay intact, also when a TLS source hands on more after that), the FIN
// follows the bytes before it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSocket } from '../testing/tcp-fakes.js';
import { ReadIntoCopy } from './read-into-copy.js';

/** Lets stream callbacks (nextTick, setImmediate) run; no time passes. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

// Buffers of 8 KiB, a read needs 2 KiB of room.
const KiB = 1024;
const bytes = (c: string, n: number): string => c.repeat(n);

/** A copy from a source dialled with it to a fake destination. */
function copy(tls = false) {
  const from = new FakeSocket(tls);
  const to = new FakeSocket();
  from.readBytes = 8 * KiB;
  const relay = new ReadIntoCopy(to.asSocket(), 2 * KiB);
  from.readInto(relay);
  relay.start(from.asSocket());
  return { from, to, relay };
}

/** The distinct memory (ArrayBuffers) the reads went into. */
const memoryOf = (from: FakeSocket): number => new Set(from.readBuffers.map((b) => b.buffer)).size;

test('the reads of one turn of the loop land one after another in one buffer and go out as one write', async () => {
  const { from, to } = copy();
  from.receive(bytes('a', 3 * KiB));
  from.receive(bytes('b', 2 * KiB));
  assert.equal(to.written.length, 0, 'not before the end of the turn');
  await settle();
  assert.equal(to.written.length, 1);
  assert.equal(to.text(), bytes('a', 3 * KiB) + bytes('b', 2 * KiB));
  assert.equal(memoryOf(from), 1);
});

test('a read that leaves too little room writes the buffer at once, and while the destination keeps up the buffer is used again', async () => {
  const { from, to } = copy();
  from.receive(bytes('x', 20 * KiB));
  from.receive(bytes('y', 1 * KiB));
  await settle();
  from.receive('!');
  await settle();
  assert.equal(to.text(), bytes('x', 20 * KiB) + bytes('y', 1 * KiB) + '!');
  assert.deepEqual(
    to.written.map((w) => w.length),
    [8 * KiB, 8 * KiB, 4 * KiB + 1 * KiB, 1],
  );
  assert.equal(memoryOf(from), 1);
});

test('a write in flight stops the reads: the bytes after it wait in the source, then arrive intact and in order', async () => {
  const { from, to } = copy();
  to.holdWrites = true;
  from.receive(bytes('a', 8 * KiB) + bytes('b', 8 * KiB) + bytes('c', 1 * KiB));
  await settle();
  assert.equal(from.readBuffers.length, 1, 'one read, then none while its write is in flight');
  assert.equal(to.writableLength, 8 * KiB, 'one buffer of bytes in flight');
  to.holdWrites = false;
  to.completeWrites();
  await settle();
  assert.equal(to.text(), bytes('a', 8 * KiB) + bytes('b', 8 * KiB) + bytes('c', 1 * KiB));
  assert.ok(memoryOf(from) <= 2, 'the buffer of the write in flight and one other');
});

test('a TLS source that hands on more after reads stopped reads it past the bytes in flight or into another buffer: they stay intact', async () => {
  const { from, to } = copy(true);
  to.holdWrites = true;
  from.receive(bytes('a', 8 * KiB) + bytes('b', 8 * KiB) + bytes('c', 1 * KiB));
  await settle();
  assert.equal(from.readBuffers.length, 3, 'all of what it had decrypted');
  assert.equal(memoryOf(from), 3, 'no buffer a write holds was read into again');
  to.holdWrites = false;
  to.completeWrites();
  await settle();
  from.receive('dddd');
  await settle();
  assert.equal(to.text(), bytes('a', 8 * KiB) + bytes('b', 8 * KiB) + bytes('c', 1 * KiB) + 'dddd');
});

test('the source FIN ends the destination after the bytes before it', async () => {
  const { from, to } = copy();
  to.holdWrites = true;
  from.receive(bytes('z', 8 * KiB));
  from.receive(null);
  await settle();
  assert.equal(to.writableEnded, false, 'the FIN waits behind the write in flight');
  to.completeWrites();
  await settle();
  assert.equal(to.text(), bytes('z', 8 * KiB));
  assert.equal(to.writableEnded, true);
});

test('a FIN right after a read writes the bytes before it at once, then ends the destination', async () => {
  const { from, to } = copy();
  from.receive('last words');
  from.receive(null);
  await settle();
  assert.equal(to.text(), 'last words');
  assert.equal(to.writableEnded, true);
});

test('a read that did not land where the copy pointed (the runtime kept its buffer) fails the destination instead of sending other bytes', async () => {
  const to = new FakeSocket();
  const relay = new ReadIntoCopy(to.asSocket(), 2 * KiB);
  relay.start(new FakeSocket().asSocket());
  const errors: Error[] = [];
  to.on('error', (e: Error) => errors.push(e));
  to.holdWrites = true;
  const buffer = relay.nextBuffer(8 * KiB);
  buffer.fill('a');
  assert.equal(relay.onRead(8 * KiB, buffer), false);
  buffer.fill('b'); // the same buffer again, without asking nextBuffer
  assert.equal(relay.onRead(8 * KiB, buffer), false);
  await settle();
  assert.equal(to.destroyed, true);
  assert.match(errors[0]!.message, /did not take the next read buffer/);
});
