// The proxy restart delays of `trellis run`: doubling, capped, and reset after a long run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RESTART_POLICY, RestartBackoff } from './proxy-restarts.js';

test('a proxy dying over and over waits twice as long each time, up to the ceiling', () => {
  const b = new RestartBackoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 60_000 });
  assert.deepEqual(
    Array.from({ length: 7 }, () => b.next(10)),
    [100, 200, 400, 800, 1000, 1000, 1000],
  );
});

test('a proxy that ran past resetAfterMs before dying starts the delays over', () => {
  const b = new RestartBackoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 5000 });
  assert.deepEqual([b.next(0), b.next(0), b.next(0)], [100, 200, 400]);
  assert.equal(b.next(4999), 800);
  assert.equal(b.next(5000), 100);
  assert.equal(b.next(0), 200);
});

test('the default policy restarts within a second at first and never waits past ten seconds', () => {
  const b = new RestartBackoff();
  assert.ok(b.next(0) <= 1000);
  for (let i = 0; i < 100; i++) assert.ok(b.next(0) <= DEFAULT_RESTART_POLICY.maxMs);
  assert.equal(b.next(0), DEFAULT_RESTART_POLICY.maxMs);
});
