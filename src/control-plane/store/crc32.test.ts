// CRC-32 against the standard check value and, where available, zlib's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { crc32 } from './crc32.js';

test('crc32 of the standard check string "123456789" is 0xcbf43926', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('crc32 of nothing is 0', () => {
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('crc32 computed in pieces equals crc32 of the whole', () => {
  const data = Buffer.from('the quick brown fox jumps over the lazy dog');
  assert.equal(crc32(data.subarray(10), crc32(data.subarray(0, 10))), crc32(data));
});

test('crc32 agrees with zlib.crc32 where the runtime has it', (t) => {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  if (!native) return t.skip('zlib.crc32 needs Node >= 22.2');
  const data = Buffer.alloc(10_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
  assert.equal(crc32(data), native(data));
});
