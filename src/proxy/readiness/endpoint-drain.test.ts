// The drain's order and its delay: withdraw, wait (only if callers had the endpoint), then inbound.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { EndpointReadiness } from '../../xds/endpoint-readiness.js';
import { endpointDrain } from './endpoint-drain.js';

function setup(state: EndpointReadiness) {
  mock.timers.enable({ apis: ['setTimeout'] });
  const steps: string[] = [];
  const d = endpointDrain({
    readiness: { status: () => ({ state, reason: '' }), drain: () => void steps.push('withdrawn') },
    delayMs: 2000,
    drainInbound: () => (steps.push('inbound closed'), Promise.resolve()),
  });
  return { d, steps };
}

const settle = () => new Promise((r) => setImmediate(r));

test('a ready endpoint is withdrawn, callers get the delay, then inbound stops accepting; a second drain is the same one', async (t) => {
  t.after(() => mock.timers.reset());
  const { d, steps } = setup('ready');
  const first = d.drain();
  assert.equal(d.drain(), first);
  await settle();
  assert.deepEqual(steps, ['withdrawn']);
  mock.timers.tick(1999);
  await settle();
  assert.deepEqual(steps, ['withdrawn']);
  mock.timers.tick(1);
  await first;
  assert.deepEqual(steps, ['withdrawn', 'inbound closed']);
});

test('an endpoint that was not ready has no callers to wait for', async (t) => {
  t.after(() => mock.timers.reset());
  const { d, steps } = setup('not-ready');
  await d.drain();
  assert.deepEqual(steps, ['withdrawn', 'inbound closed']);
});

test('hurry ends the delay at once, also when it comes first', async (t) => {
  t.after(() => mock.timers.reset());
  const a = setup('ready');
  const draining = a.d.drain();
  await settle();
  a.d.hurry();
  await draining;
  assert.deepEqual(a.steps, ['withdrawn', 'inbound closed']);
  mock.timers.reset();
  const b = setup('ready');
  b.d.hurry();
  await b.d.drain();
  assert.deepEqual(b.steps, ['withdrawn', 'inbound closed']);
});
