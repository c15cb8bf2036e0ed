// The balance layer: the endpoint comes from the cluster's picker (the outlier detector's, which
// leaves ejected endpoints out, when the cluster has one), with the route's hash key for ring
// hash; no endpoint is a 503 NO_HEALTHY_ENDPOINT. On the way up every attempt's outcome is
// recorded against its endpoint (a 5xx or a failed attempt is a failure), and never taken over.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { hash32 } from '../balancer/index.js';
import type { HashConfig, OutlierConfig } from '../config/resilience-config.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import { upstreamReset } from '../errors.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import { clusterState, compiledRoute, fakeEndpoints, fakeRequest, NextRecorder, type FakeRequestOptions } from '../testing/http-fakes.js';
import { balanceLayer, cookieValue } from './balance-layer.js';

function pick(cluster: ClusterState, o: FakeRequestOptions & { hash?: HashConfig } = {}) {
  const next = new NextRecorder();
  const r = fakeRequest({ ...o, cluster, route: compiledRoute(o.hash === undefined ? {} : { hash: o.hash }, [{ item: cluster, weight: 1 }]) });
  balanceLayer.request(r.ctx, next.handler);
  return { ...r, next };
}

const OUTLIER: OutlierConfig = { consecutiveErrors: 2, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 50 };

function withOutliers(t: TestContext, n = 2): ClusterState {
  const cluster = clusterState('app', fakeEndpoints(n), { outlier: OUTLIER });
  t.after(() => cluster.runtime.stop());
  return cluster;
}

test("the endpoint comes from the cluster's balancer (round robin here) and the request goes on", () => {
  const [a, b] = fakeEndpoints(2);
  const cluster = clusterState('app', [a!, b!]);
  const first = pick(cluster);
  assert.deepEqual(first.next.calls, [first.ctx]);
  const second = pick(cluster);
  assert.deepEqual(new Set([first.ctx.endpoint, second.ctx.endpoint]), new Set([a, b]));
});

test('a cluster without endpoints is a 503 NO_HEALTHY_ENDPOINT naming it', () => {
  const { next, down, ctx } = pick(clusterState('empty'));
  assert.equal(next.calls.length, 0);
  assert.equal(ctx.endpoint, undefined);
  assert.equal(down.response?.status, 503);
  assert.equal(down.response?.headers['x-trellis-error'], 'NO_HEALTHY_ENDPOINT');
  assert.match(down.response?.body ?? '', /cluster empty/);
});

test('ring hash: a header, a cookie or the source address keeps a caller on one endpoint', () => {
  const cluster = clusterState('app', fakeEndpoints(8), { lbPolicy: 'ring_hash' });
  const byHeader = (user: string) => pick(cluster, { hash: { type: 'header', name: 'x-user' }, headers: { 'x-user': user } }).ctx.endpoint;
  assert.equal(byHeader('alice'), cluster.balancer.pick(hash32('alice')));
  for (let i = 0; i < 5; i++) assert.equal(byHeader('alice'), byHeader('alice'));
  assert.ok(new Set(Array.from({ length: 40 }, (_, i) => byHeader(`user-${i}`))).size > 1, 'different keys spread over the ring');

  const byCookie = pick(cluster, { hash: { type: 'cookie', name: 'session' }, headers: { cookie: 'theme=dark; session=s-42' } }).ctx.endpoint;
  assert.equal(byCookie, cluster.balancer.pick(hash32('s-42')));
  const bySource = pick(cluster, { hash: { type: 'source-ip' }, remoteAddress: '10.9.8.7' }).ctx.endpoint;
  assert.equal(bySource, cluster.balancer.pick(hash32('10.9.8.7')));
});

test('cookieValue reads one cookie of a Cookie header', () => {
  assert.equal(cookieValue('a=1; session=xyz ; b=2', 'session'), 'xyz');
  assert.equal(cookieValue('sessionx=1; session=2', 'session'), '2');
  assert.equal(cookieValue('a=1', 'session'), undefined);
  assert.equal(cookieValue(undefined, 'session'), undefined);
  assert.equal(cookieValue('=x; session=', 'session'), '');
});

test('5xx heads count against the endpoint: consecutive ones eject it from the picker', (t) => {
  const cluster = withOutliers(t);
  const outlier = cluster.runtime.outlier!;
  const { ctx } = pick(cluster);
  const bad = ctx.endpoint;
  assert.equal(balanceLayer.onResponseHead!(ctx, 503, NO_GRPC_STATUS), false, 'recorded, never taken over');
  assert.equal(outlier.isEjected(bad), false);
  assert.equal(balanceLayer.onResponseHead!(ctx, 502, NO_GRPC_STATUS), false);
  assert.equal(outlier.isEjected(bad), true);
  assert.equal(cluster.runtime.events.ejections.consecutive_errors, 1);
  for (let i = 0; i < 4; i++) assert.notEqual(pick(cluster).ctx.endpoint, bad, 'an ejected endpoint is not picked');
});

test('a success in between resets the count: 4xx and 2xx are not failures', (t) => {
  const cluster = withOutliers(t);
  const { ctx } = pick(cluster);
  balanceLayer.onResponseHead!(ctx, 500, NO_GRPC_STATUS);
  balanceLayer.onResponseHead!(ctx, 404, NO_GRPC_STATUS);
  balanceLayer.onResponseHead!(ctx, 500, NO_GRPC_STATUS);
  balanceLayer.onResponseHead!(ctx, 200, NO_GRPC_STATUS);
  balanceLayer.onResponseHead!(ctx, 500, NO_GRPC_STATUS);
  assert.equal(cluster.runtime.outlier!.isEjected(ctx.endpoint), false);
});

test('failed attempts (reset, connect failure) count against the endpoint', (t) => {
  const cluster = withOutliers(t);
  const { ctx } = pick(cluster);
  assert.equal(balanceLayer.onAttemptFailed!(ctx, upstreamReset('x')), false);
  assert.equal(balanceLayer.onAttemptFailed!(ctx, upstreamReset('x')), false);
  assert.equal(cluster.runtime.outlier!.isEjected(ctx.endpoint), true);
});

test('a keep-alive race lost (an unprocessed attempt) does not count against the endpoint', (t) => {
  const cluster = withOutliers(t);
  const { ctx } = pick(cluster);
  for (let i = 0; i < 3; i++) assert.equal(balanceLayer.onAttemptFailed!(ctx, { ...upstreamReset('x'), unprocessed: true }), false);
  assert.equal(cluster.runtime.outlier!.isEjected(ctx.endpoint), false);
});

test('without outlier detection, or before an endpoint was picked, nothing is recorded', (t) => {
  const plain = pick(clusterState('app', fakeEndpoints(1)));
  assert.equal(balanceLayer.onResponseHead!(plain.ctx, 503, NO_GRPC_STATUS), false);
  const cluster = withOutliers(t);
  const { ctx } = fakeRequest({ cluster });
  assert.equal(balanceLayer.onAttemptFailed!(ctx, upstreamReset('x')), false);
  assert.equal(balanceLayer.onAttemptFailed!(ctx, upstreamReset('x')), false);
  assert.equal(cluster.runtime.outlier!.ejected, 0);
});

test('a later attempt of a request avoids the endpoints its earlier attempts went to', () => {
  for (const lbPolicy of ['round_robin', 'least_request', 'random', 'ring_hash'] as const) {
    const endpoints = fakeEndpoints(3);
    const cluster = clusterState('app', endpoints, { lbPolicy });
    const { ctx, next } = pick(cluster, { hash: { type: 'header', name: 'x-user' }, headers: { 'x-user': 'alice' } });
    const first = ctx.endpoint;
    balanceLayer.request(ctx, next.handler); // the retry goes down the same context
    const second = ctx.endpoint;
    assert.notEqual(second, first, lbPolicy);
    balanceLayer.request(ctx, next.handler);
    assert.equal(new Set([first, second, ctx.endpoint]).size, 3, `${lbPolicy}: the third attempt goes to the one left`);
    balanceLayer.request(ctx, next.handler);
    assert.ok(endpoints.includes(ctx.endpoint), `${lbPolicy}: every endpoint tried, any may be picked again`);
    assert.equal(next.calls.length, 4);
  }
});

test('ring hash: a retry leaves the dead owner of its key and later requests with that key still hash to it', () => {
  const cluster = clusterState('app', fakeEndpoints(5), { lbPolicy: 'ring_hash' });
  const hash = { type: 'header', name: 'x-user' } as const;
  const { ctx, next } = pick(cluster, { hash, headers: { 'x-user': 'bob' } });
  const owner = ctx.endpoint;
  balanceLayer.request(ctx, next.handler);
  assert.notEqual(ctx.endpoint, owner);
  assert.equal(pick(cluster, { hash, headers: { 'x-user': 'bob' } }).ctx.endpoint, owner, 'a new request starts from the key again');
});
