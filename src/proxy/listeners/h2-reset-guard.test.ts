import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2ResetGuard } from './h2-reset-guard.js';

test('a client that resets every stream it opens is abusive at the limit, not before', () => {
  const c = new H2ResetGuard(100);
  for (let i = 1; i < 100; i++) {
    c.streamOpened();
    assert.equal(c.clientReset(), false, `reset ${i}`);
  }
  c.streamOpened();
  assert.equal(c.clientReset(), true);
});

test('a client that cancels a third of its streams never is', () => {
  const c = new H2ResetGuard(100);
  for (let i = 0; i < 3000; i++) {
    c.streamOpened();
    if (i % 3 === 0) assert.equal(c.clientReset(), false, `stream ${i}`);
  }
});

test('resets past half of the streams opened are abusive once there are enough of them', () => {
  const c = new H2ResetGuard(10);
  for (let i = 0; i < 20; i++) c.streamOpened();
  for (let i = 1; i < 10; i++) assert.equal(c.clientReset(), false);
  assert.equal(c.clientReset(), false, '10 of 20 is not more than half');
  assert.equal(c.clientReset(), true, '11 of 20 is');
});
