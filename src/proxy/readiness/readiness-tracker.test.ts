// The endpoint's readiness: sidecar and app both ready, failure threshold, recovery, drain.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { EndpointReadiness } from '../../xds/endpoint-readiness.js';
import type { ProbeResult } from './app-probe.js';
import { NOT_READY_PERIOD_MS, ReadinessTracker } from './readiness-tracker.js';

/** Lets the probe's promise and the tracker's continuation run (setImmediate is not faked). */
const settle = () => new Promise((r) => setImmediate(r));

function setup(opts: { probe?: boolean; failureThreshold?: number; periodMs?: number } = {}) {
  mock.timers.enable({ apis: ['setTimeout'] });
  const reports: EndpointReadiness[] = [];
  const answers: ProbeResult[] = [];
  let checks = 0;
  let serves = false;
  const tracker = new ReadinessTracker({
    ...(opts.probe === false
      ? {}
      : {
          probe: () => {
            checks++;
            return Promise.resolve(answers.shift() ?? { ok: false, reason: 'connection refused' });
          },
        }),
    sidecarServes: () => serves,
    report: (state) => reports.push(state),
    periodMs: opts.periodMs ?? 1000,
    failureThreshold: opts.failureThreshold ?? 3,
  });
  return {
    tracker,
    reports,
    answer: (...r: boolean[]) => answers.push(...r.map((ok): ProbeResult => (ok ? { ok: true } : { ok: false, reason: 'answered 503' }))),
    checks: () => checks,
    serve: () => {
      serves = true;
      tracker.update();
    },
    tick: async (ms: number) => {
      mock.timers.tick(ms);
      await settle();
    },
  };
}

test('without a check the endpoint is ready once the sidecar serves, not before', (t) => {
  t.after(() => mock.timers.reset());
  const s = setup({ probe: false });
  s.tracker.start();
  assert.deepEqual(s.reports, ['not-ready']);
  assert.equal(s.tracker.status().reason, 'the sidecar is waiting for its config');
  s.serve();
  assert.deepEqual(s.reports, ['not-ready', 'ready']);
  s.tracker.close();
});

test('with a check the endpoint is ready only once the sidecar serves and the app passed, whichever comes last', async (t) => {
  t.after(() => mock.timers.reset());
  const s = setup();
  s.answer(false, true);
  s.tracker.start();
  await s.tick(0);
  assert.match(s.tracker.status().reason, /sidecar is waiting/);
  s.serve();
  assert.match(s.tracker.status().reason, /the app's readiness check failed: answered 503/);
  assert.deepEqual(s.reports, ['not-ready']);
  // A not-ready app is checked again soon, whatever the period.
  await s.tick(NOT_READY_PERIOD_MS);
  assert.deepEqual(s.reports, ['not-ready', 'ready']);
  assert.equal(s.checks(), 2);
  s.tracker.close();
});

test('a ready app is withdrawn after failureThreshold failed checks in a row, and restored by the next success', async (t) => {
  t.after(() => mock.timers.reset());
  const s = setup({ failureThreshold: 3, periodMs: 1000 });
  s.serve();
  s.answer(true, false, false, true, false, false, false, true);
  s.tracker.start();
  await s.tick(0);
  assert.deepEqual(s.reports, ['not-ready', 'ready']);
  // Two failures, a success: still ready (the count starts over).
  for (let i = 0; i < 3; i++) await s.tick(1000);
  assert.deepEqual(s.reports, ['not-ready', 'ready']);
  await s.tick(1000);
  await s.tick(1000);
  assert.deepEqual(s.reports, ['not-ready', 'ready']);
  await s.tick(1000);
  assert.deepEqual(s.reports, ['not-ready', 'ready', 'not-ready']);
  assert.match(s.tracker.status().reason, /answered 503/);
  await s.tick(NOT_READY_PERIOD_MS);
  assert.deepEqual(s.reports, ['not-ready', 'ready', 'not-ready', 'ready']);
  assert.equal(s.checks(), 8);
  s.tracker.close();
});

test('drain withdraws the endpoint for good: no more checks, no change back', async (t) => {
  t.after(() => mock.timers.reset());
  const s = setup();
  s.serve();
  s.answer(true, true, true);
  s.tracker.start();
  await s.tick(0);
  s.tracker.drain();
  assert.deepEqual(s.tracker.status(), { state: 'draining', reason: 'shutting down' });
  await s.tick(5000);
  s.tracker.update();
  assert.deepEqual(s.reports, ['not-ready', 'ready', 'draining']);
  assert.equal(s.checks(), 1);
});
