// The outlier detector's bookkeeping on plain inputs: ejection by consecutive errors, the
// maxEjectionPercent share, and an ejected endpoint that leaves the cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutlierConfig } from '../config/resilience-config.js';
import { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { OutlierDetector } from './outlier-detector.js';

const config: OutlierConfig = { consecutiveErrors: 2, intervalMs: 60_000, baseEjectionMs: 60_000, maxEjectionPercent: 50 };
const members = (eps: UpstreamEndpoint[]) => eps.map((target) => ({ target, healthy: true, weight: 1 }));
const fail = (d: OutlierDetector, e: UpstreamEndpoint, times: number) => {
  for (let i = 0; i < times; i++) d.record(e, false);
};

test('consecutive errors eject an endpoint; a success in between starts the count over', (t) => {
  const [a, b] = [new UpstreamEndpoint('10.0.0.1', 80), new UpstreamEndpoint('10.0.0.2', 80)];
  const d = new OutlierDetector(config, members([a, b]), 'round_robin');
  t.after(() => d.stop());
  d.record(a, false);
  d.record(a, true);
  d.record(a, false);
  assert.equal(d.isEjected(a), false);
  d.record(a, false);
  assert.equal(d.isEjected(a), true);
  for (let i = 0; i < 4; i++) assert.equal(d.balancer.pick()?.address, '10.0.0.2');
});

test('no more than maxEjectionPercent are ejected; an ejected endpoint that leaves frees its place', (t) => {
  const eps = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => new UpstreamEndpoint(a, 80));
  const d = new OutlierDetector(config, members(eps), 'round_robin');
  t.after(() => d.stop());
  for (const e of eps) fail(d, e, 2);
  assert.deepEqual(
    eps.map((e) => d.isEjected(e)),
    [true, true, false, false],
    '50 % of four',
  );
  assert.equal(d.ejected, 2);

  d.update(config, members(eps.slice(1)), 'round_robin');
  assert.equal(d.ejected, 1, 'the endpoint that left no longer counts');
  fail(d, eps[2]!, 2);
  assert.equal(d.isEjected(eps[2]!), false, 'floor(50 % of three) = 1 is taken by the second');
  d.update(config, members(eps.slice(2)), 'round_robin');
  assert.equal(d.ejected, 0);
  fail(d, eps[2]!, 2);
  assert.equal(d.isEjected(eps[2]!), true, 'one of two may go now');
});

test('with alwaysEjectOne (what the control plane sends) a 3-endpoint cluster at 10 % ejects its one bad endpoint, and no second', (t) => {
  const eps = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((a) => new UpstreamEndpoint(a, 80));
  const small: OutlierConfig = { ...config, maxEjectionPercent: 10, alwaysEjectOne: true };
  const d = new OutlierDetector(small, members(eps), 'round_robin');
  t.after(() => d.stop());
  fail(d, eps[0]!, 2);
  assert.equal(d.isEjected(eps[0]!), true);
  fail(d, eps[1]!, 2);
  assert.equal(d.isEjected(eps[1]!), false, 'floor(10 % of 3) = 0, raised to one, taken');
  for (let i = 0; i < 6; i++) assert.notEqual(d.balancer.pick(), eps[0]);

  const strict = new OutlierDetector({ ...small, alwaysEjectOne: false }, members(eps), 'round_robin');
  t.after(() => strict.stop());
  fail(strict, eps[0]!, 2);
  assert.equal(strict.isEjected(eps[0]!), false, 'without it, 10 % of 3 rounds down to none (Envoy without always_eject_one_host)');
});
