// The circuit breaker layer: with limits, at most maxRequests in flight to the cluster; one
// more is a 503 CIRCUIT_BREAKER_OPEN (counted as max_requests), and a request frees its slot
// when it is over. Clusters without limits count nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS } from '../config/resilience-config.js';
import { clusterState, completeResponse, fakeRequest, NextRecorder } from '../testing/http-fakes.js';
import { circuitBreakerLayer } from './circuit-breaker-layer.js';

test('a cluster without limits passes every request and counts none in flight', () => {
  const cluster = clusterState('app');
  const next = new NextRecorder();
  for (let i = 0; i < 5; i++) circuitBreakerLayer.request(fakeRequest({ cluster }).ctx, next.handler);
  assert.equal(next.calls.length, 5);
  assert.equal(cluster.runtime.activeRequests, 0);
});

test('over maxRequests in flight a request fails fast with 503, and passes again once one is done', () => {
  const cluster = clusterState('app', [], { limits: { ...DEFAULT_LIMITS, maxRequests: 2 } });
  const next = new NextRecorder();
  const first = fakeRequest({ cluster });
  const second = fakeRequest({ cluster });
  circuitBreakerLayer.request(first.ctx, next.handler);
  circuitBreakerLayer.request(second.ctx, next.handler);
  assert.equal(next.calls.length, 2);
  assert.equal(cluster.runtime.activeRequests, 2);

  const third = fakeRequest({ cluster });
  circuitBreakerLayer.request(third.ctx, next.handler);
  assert.equal(next.calls.length, 2, 'not passed on');
  assert.equal(third.down.response?.status, 503);
  assert.equal(third.down.response?.headers['x-trellis-error'], 'CIRCUIT_BREAKER_OPEN');
  assert.match(third.down.response?.body ?? '', /maxRequests = 2/);
  assert.equal(cluster.runtime.events.breakerRejections.max_requests, 1);
  third.ctx.downstreamClosed();
  assert.equal(cluster.runtime.activeRequests, 2, 'a refused request held no slot, so frees none');

  completeResponse(first.ctx, 200);
  assert.equal(cluster.runtime.activeRequests, 1, 'released when the request is over');
  first.ctx.downstreamClosed();
  assert.equal(cluster.runtime.activeRequests, 1, 'released once');
  const fourth = fakeRequest({ cluster });
  circuitBreakerLayer.request(fourth.ctx, next.handler);
  assert.equal(next.calls.length, 3);
  assert.equal(cluster.runtime.events.breakerRejections.max_requests, 1);
});

test('a request whose client went away frees its slot too', () => {
  const cluster = clusterState('app', [], { limits: { ...DEFAULT_LIMITS, maxRequests: 1 } });
  const { ctx } = fakeRequest({ cluster });
  circuitBreakerLayer.request(ctx, () => {});
  assert.equal(cluster.runtime.activeRequests, 1);
  ctx.downstreamClosed();
  assert.equal(cluster.runtime.activeRequests, 0);
});
