// Decoding framed files: round trips, and what follows the last intact frame judged as a torn tail
// (what an interrupted append leaves) or corruption (see the rules in log-decode.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrames, SECTOR_BYTES } from './log-decode.js';
import { encodeFrame, FRAME_HEADER_BYTES } from './log-frame.js';

const frames = (...texts: string[]) => Buffer.concat(texts.map((t) => encodeFrame(Buffer.from(t))));
const payloads = (data: Buffer) => decodeFrames(data).frames.map((f) => f.payload.toString());
/** A JSON-like payload of `n` bytes (no zero byte, as every record). */
const text = (n: number) => `{"x":"${'y'.repeat(n - 8)}"}`;

test('frames decode back to their payloads in order, with where each starts and ends', () => {
  const data = frames('{"a":1}', '{"b":2}', 'x');
  const d = decodeFrames(data);
  assert.deepEqual(payloads(data), ['{"a":1}', '{"b":2}', 'x']);
  assert.deepEqual(
    d.frames.map((f) => [f.start, f.end]),
    [
      [0, 19],
      [19, 38],
      [38, 51],
    ],
  );
  assert.equal(d.validLength, data.length);
  assert.equal(d.tail, undefined);
});

test('an empty buffer has no frames and no tail', () => {
  assert.deepEqual(decodeFrames(Buffer.alloc(0)), { frames: [], validLength: 0 });
});

const good = frames('one', 'two');
const third = encodeFrame(Buffer.from(text(1500)));
/** Frame three after `good`, with the file's sector holding byte `sectorOffset` of the file zeroed. */
const withZeroSector = (fileOffset: number) => {
  const f = Buffer.from(third);
  const from = Math.floor(fileOffset / SECTOR_BYTES) * SECTOR_BYTES - good.length;
  f.fill(0, Math.max(0, from), from + SECTOR_BYTES);
  return Buffer.concat([good, f]);
};

const torn: [string, Buffer, RegExp][] = [
  ['half a frame', Buffer.concat([good, third.subarray(0, FRAME_HEADER_BYTES + 4)]), /incomplete record \(4 of 1500 payload bytes\)/],
  ['a torn header', Buffer.concat([good, third.subarray(0, 5)]), /incomplete record header \(5 of 12 bytes\)/],
  ['two bytes of the marker', Buffer.concat([good, third.subarray(0, 2)]), /incomplete record header/],
  ['zeros (the file grew, no data arrived)', Buffer.concat([good, Buffer.alloc(64)]), /64 zero bytes/],
  ['a whole frame with a sector of zeros', withZeroSector(good.length + 600), /sector at byte 512 reads as zeros/],
  ['a whole frame whose first sector reads as zeros', withZeroSector(good.length), /first sector reads as zeros/],
  [
    'a prefix whose last sector reads as zeros',
    (() => {
      const d = withZeroSector(1100);
      return d.subarray(0, 1300);
    })(),
    /incomplete record/,
  ],
];
for (const [what, data, reason] of torn) {
  test(`torn tail: ${what}`, () => {
    const d = decodeFrames(data);
    assert.deepEqual(
      d.frames.map((f) => f.payload.toString()),
      ['one', 'two'],
    );
    assert.equal(d.validLength, good.length);
    assert.equal(d.tail?.torn, true, d.tail?.reason);
    assert.equal(d.tail.offset, good.length);
    assert.equal(d.tail.bytes, data.length - good.length);
    assert.match(d.tail.reason, reason);
  });
}

const flip = (data: Buffer, at: number, mask = 0x01) => {
  const c = Buffer.from(data);
  c[at]! ^= mask;
  return c;
};
const corrupt: [string, Buffer, number, RegExp][] = [
  ['a flipped payload byte in the last frame', flip(good, good.length - 1), 15, /last record with a wrong checksum and no unwritten sector/],
  ['a flipped payload byte in the middle', flip(frames('one', 'two', 'three'), 14), 0, /damaged record followed by an intact one at byte 15/],
  ['a flipped marker in the middle', flip(frames('one', 'two', 'three'), 15), 15, /followed by an intact one at byte 30/],
  [
    'a length in the middle that points past the end',
    (() => {
      const d = frames('one', 'two', 'three');
      d.writeUInt32LE(1000, 19);
      return d;
    })(),
    15,
    /followed by an intact one at byte 30/,
  ],
  [
    'a changed length field followed by more bytes',
    (() => {
      const d = Buffer.concat([frames('abcdef'), Buffer.from('zz')]);
      d.writeUInt32LE(7, 4);
      return d;
    })(),
    0,
    /wrong checksum, followed by 1 more bytes/,
  ],
  [
    'a last length field made longer',
    (() => {
      const d = Buffer.from(good);
      d.writeUInt32LE(40, 19);
      return d;
    })(),
    15,
    /length field is damaged/,
  ],
  ['garbage after the frames', Buffer.concat([good, Buffer.from('this is not a frame at all \x00\x01\x02')]), 30, /no record marker/],
  [
    'an impossible length',
    (() => {
      const d = Buffer.from(third);
      d.writeUInt32LE(0, 4);
      return Buffer.concat([good, d]);
    })(),
    30,
    /impossible record length 0/,
  ],
  ['a flipped byte in the last frame that spans sectors', flip(Buffer.concat([good, third]), 900), 30, /no unwritten sector/],
];
for (const [what, data, offset, reason] of corrupt) {
  test(`corruption: ${what}`, () => {
    const d = decodeFrames(data);
    assert.equal(d.tail?.torn, false, d.tail?.reason);
    assert.equal(d.tail.offset, offset);
    assert.match(d.tail.reason, reason);
  });
}
