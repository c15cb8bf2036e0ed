import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogRateLimit } from './log-rate-limit.js';

test('a flood on one key writes at most the bound per second; the next line carries the count of the rest', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const reports: [string, number][] = [];
  const limit = new LogRateLimit(
    5,
    (k, n) => reports.push([k, n]),
    () => now,
  );
  const admitted = Array.from({ length: 10_000 }, () => limit.admit('p')).filter((r) => r !== false);
  assert.deepEqual(admitted, [0, 0, 0, 0, 0], 'five lines in the first second, none suppressed before them');
  assert.equal(limit.admit('other'), 0, 'another key has its own bound');
  now = 1000;
  assert.equal(limit.admit('p'), 9995, 'the first line of the next second counts what was not written');
  assert.deepEqual(reports, [], 'a later line reported them: no separate report');
});

test('suppressed lines with no later line are reported once when their second ends', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const reports: [string, number][] = [];
  const limit = new LogRateLimit(
    2,
    (k, n) => reports.push([k, n]),
    () => now,
  );
  for (let i = 0; i < 7; i++) limit.admit('deny');
  now = 1000;
  t.mock.timers.tick(1000);
  assert.deepEqual(reports, [['deny', 5]]);
  t.mock.timers.tick(5000);
  assert.deepEqual(reports, [['deny', 5]], 'reported once');
  assert.equal(limit.admit('deny'), 0);
});
