// The cluster pick layer: a weighted random choice among the route's backends becomes
// ctx.cluster; a route whose weights are all zero is a 503 NO_BACKEND.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterState, compiledRoute, fakeRequest, NextRecorder } from '../testing/http-fakes.js';
import { clusterPickLayer } from './cluster-pick-layer.js';

const v1 = clusterState('app-v1');
const v2 = clusterState('app-v2');

test('a single backend is the cluster', () => {
  const next = new NextRecorder();
  const { ctx } = fakeRequest({ route: compiledRoute({}, [{ item: v1, weight: 1 }]) });
  clusterPickLayer.request(ctx, next.handler);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(ctx.cluster, v1);
});

test('backends are picked in proportion to their weights (90/10 split by the random draw)', (t) => {
  const route = compiledRoute({}, [
    { item: v1, weight: 90 },
    { item: v2, weight: 10 },
  ]);
  let draw = 0;
  t.mock.method(Math, 'random', () => draw);
  const pick = (r: number) => {
    draw = r;
    const { ctx } = fakeRequest({ route });
    clusterPickLayer.request(ctx, () => {});
    return ctx.cluster?.name;
  };
  assert.equal(pick(0), 'app-v1');
  assert.equal(pick(0.899), 'app-v1');
  assert.equal(pick(0.9), 'app-v2');
  assert.equal(pick(0.999), 'app-v2');
});

test('a backend of weight zero is never picked', (t) => {
  t.mock.method(Math, 'random', () => 0);
  const { ctx } = fakeRequest({
    route: compiledRoute({}, [
      { item: v1, weight: 0 },
      { item: v2, weight: 5 },
    ]),
  });
  clusterPickLayer.request(ctx, () => {});
  assert.equal(ctx.cluster, v2);
});

test('every weight zero is a 503 NO_BACKEND naming the route', () => {
  const next = new NextRecorder();
  const { ctx, down } = fakeRequest({ route: compiledRoute({}, [{ item: v1, weight: 0 }]) });
  clusterPickLayer.request(ctx, next.handler);
  assert.equal(next.calls.length, 0);
  assert.equal(ctx.cluster, undefined);
  assert.equal(down.response?.status, 503);
  assert.equal(down.response?.headers['x-trellis-error'], 'NO_BACKEND');
  assert.match(down.response?.body ?? '', /route all\/r/);
});
