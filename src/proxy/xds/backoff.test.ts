import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from './backoff.js';

const opts = { initialMs: 500, maxMs: 10_000 };

/** A seeded generator (mulberry32) so the jitter test is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the ceiling doubles per attempt and stops at maxMs', () => {
  const ceilings = [0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffDelay(n, opts, () => 0.999999) + 1);
  assert.deepEqual(ceilings, [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
});

test('full jitter: the delay is uniform from 0 to the ceiling', () => {
  assert.equal(
    backoffDelay(3, opts, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(3, opts, () => 0.5),
    2000,
  );
});

test('seeded jitter spreads delays over the whole range and stays below the ceiling', () => {
  const random = seeded(42);
  const delays = Array.from({ length: 200 }, () => backoffDelay(2, opts, random));
  assert.ok(delays.every((d) => d >= 0 && d < 2000));
  assert.ok(new Set(delays).size > 150, 'delays differ');
  assert.ok(Math.min(...delays) < 200 && Math.max(...delays) > 1800, 'delays cover the range');
});
