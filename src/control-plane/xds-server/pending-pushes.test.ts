// Push latency per stream: from the oldest unsent change of a type to the response that carries it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { PendingPushes } from './pending-pushes.js';

test('a response carrying a change reports how long the oldest change waited, once', () => {
  const p = new PendingPushes();
  p.changed(ROUTE_TYPE, 1000);
  p.changed(ROUTE_TYPE, 1300); // a later change while the first is unsent keeps the first's time
  assert.equal(p.written(CLUSTER_TYPE, 'c1', 1500), undefined, 'another type carried no change');
  assert.equal(p.written(ROUTE_TYPE, 'r2', 1250), 0.25);
  assert.equal(p.written(ROUTE_TYPE, 'r2', 1400), undefined, 'already reported');
});

test('a response written without a change (the first answer to a subscription) reports nothing', () => {
  const p = new PendingPushes();
  assert.equal(p.written(ROUTE_TYPE, 'r1', 10), undefined);
});

test('a change the proxy already has (the config moved back) or that could not be sent is forgotten', () => {
  const p = new PendingPushes();
  p.written(ROUTE_TYPE, 'r1', 0);
  p.written(CLUSTER_TYPE, 'c1', 0);
  p.changed(ROUTE_TYPE, 100);
  p.changed(CLUSTER_TYPE, 100);
  p.settle((t) => (t === ROUTE_TYPE ? 'r1' : 'c2'));
  assert.equal(p.written(ROUTE_TYPE, 'r1', 5000), undefined, 'moved back to r1: nothing waited');
  assert.equal(p.written(CLUSTER_TYPE, 'c2', 600), 0.5, 'c2 is still on its way');
  p.changed(CLUSTER_TYPE, 700);
  p.dropped(CLUSTER_TYPE);
  assert.equal(p.written(CLUSTER_TYPE, 'c4', 9000), undefined);
});
