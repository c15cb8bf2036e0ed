// Record framing: round trips, and every kind of damaged tail is detected where it starts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrames, encodeFrame, FRAME_HEADER_BYTES } from './log-frame.js';

const frames = (...texts: string[]) => Buffer.concat(texts.map((t) => encodeFrame(Buffer.from(t))));
const payloads = (data: Buffer) => decodeFrames(data).frames.map((f) => f.payload.toString());

test('frames decode back to their payloads in order', () => {
  const data = frames('{"a":1}', '{"b":2}', 'x');
  const d = decodeFrames(data);
  assert.deepEqual(payloads(data), ['{"a":1}', '{"b":2}', 'x']);
  assert.equal(d.validLength, data.length);
  assert.equal(d.tailProblem, undefined);
});

test('an empty buffer has no frames and no problem', () => {
  assert.deepEqual(decodeFrames(Buffer.alloc(0)), { frames: [], validLength: 0 });
});

test('half a frame at the end is a torn tail after the intact frames', () => {
  const good = frames('one', 'two');
  const torn = encodeFrame(Buffer.from('three-is-longer')).subarray(0, FRAME_HEADER_BYTES + 4);
  const d = decodeFrames(Buffer.concat([good, torn]));
  assert.deepEqual(d.frames.map((f) => f.payload.toString()), ['one', 'two']);
  assert.equal(d.validLength, good.length);
  assert.match(d.tailProblem!, /incomplete frame \(4 of 15 payload bytes\)/);
});

test('a torn header is a torn tail', () => {
  const good = frames('one');
  const d = decodeFrames(Buffer.concat([good, encodeFrame(Buffer.from('two')).subarray(0, 5)]));
  assert.equal(d.validLength, good.length);
  assert.match(d.tailProblem!, /incomplete frame header/);
});

test('a flipped payload byte fails the checksum', () => {
  const data = frames('one', 'two');
  data[data.length - 1] ^= 0x01;
  const d = decodeFrames(data);
  assert.deepEqual(d.frames.map((f) => f.payload.toString()), ['one']);
  assert.match(d.tailProblem!, /wrong checksum/);
});

test('a changed length field fails the checksum (the length is covered by it)', () => {
  const data = Buffer.concat([frames('abcdef'), Buffer.from('zz')]);
  data.writeUInt32LE(7, 4);
  const d = decodeFrames(data);
  assert.equal(d.frames.length, 0);
  assert.match(d.tailProblem!, /wrong checksum/);
});

test('zeros after the frames are not taken for empty frames', () => {
  const good = frames('one');
  const d = decodeFrames(Buffer.concat([good, Buffer.alloc(64)]));
  assert.equal(d.frames.length, 1);
  assert.equal(d.validLength, good.length);
  assert.match(d.tailProblem!, /no frame marker/);
});
