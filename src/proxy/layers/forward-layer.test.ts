// The forward handler (the stacks' terminal), where it needs no connection: an HTTP/1.x request
// to a cluster with circuit breaker limits at maxConnections waits in the cluster's pending
// queue, or fails fast with 503 CIRCUIT_BREAKER_OPEN (max_pending_requests) when that is full;
// a client that goes away takes its request out of the queue; one whose endpoint leaves the
// cluster or is ejected is re-routed to another endpoint, not failed. Forwarding itself is tested over
// loopback in http/h1-forwarding.test.ts and http/h2-forwarding.test.ts.
import type { Handler } from '../http/layer.js';
import type { RequestContext } from '../http/request-context.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS, type OutlierConfig } from '../config/resilience-config.js';
import { clusterState, compiledRoute, fakeEndpoints, fakeRequest } from '../testing/http-fakes.js';
import { balanceLayer } from './balance-layer.js';
import { forward } from './forward-layer.js';
import { retryLayer } from './retry-layer.js';

function atMaxConnections(maxPendingRequests: number) {
  const [endpoint] = fakeEndpoints(1);
  const cluster = clusterState('app', [endpoint!], { limits: { ...DEFAULT_LIMITS, maxConnections: 0, maxPendingRequests } });
  const request = () => {
    const r = fakeRequest({ cluster });
    (r.ctx as RequestContext).endpoint = endpoint; // as the balance layer would
    forward(r.ctx);
    return r;
  };
  return { cluster, request };
}

test("with every connection busy a request waits in the cluster's queue as its upstream call", () => {
  const { cluster, request } = atMaxConnections(2);
  const first = request();
  const second = request();
  assert.equal(cluster.runtime.pending.length, 2);
  assert.notEqual(first.ctx.upstream, undefined);
  assert.equal(first.down.responses.length + second.down.responses.length, 0);
  assert.equal(cluster.endpoints[0]!.h1.live, 0, 'no connection opened');
});

test('a full queue fails the next request fast with 503 CIRCUIT_BREAKER_OPEN, counted as max_pending_requests', () => {
  const { cluster, request } = atMaxConnections(1);
  request();
  const refused = request();
  assert.equal(cluster.runtime.pending.length, 1);
  assert.equal(refused.down.response?.status, 503);
  assert.equal(refused.down.response?.headers['x-trellis-error'], 'CIRCUIT_BREAKER_OPEN');
  assert.match(refused.down.response?.body ?? '', /maxConnections = 0 connections are busy and maxPendingRequests = 1/);
  assert.equal(cluster.runtime.events.breakerRejections.max_pending_requests, 1);
  assert.equal(cluster.runtime.events.breakerRejections.max_requests, 0);
});

test('no queue at all (maxPendingRequests 0) refuses at once', () => {
  const { cluster, request } = atMaxConnections(0);
  assert.equal(request().ctx.error?.code, 'CIRCUIT_BREAKER_OPEN');
  assert.equal(cluster.runtime.pending.length, 0);
});

test('a client that goes away takes its request out of the queue', () => {
  const { cluster, request } = atMaxConnections(2);
  const gone = request();
  const waiting = request();
  gone.ctx.downstreamClosed();
  assert.equal(cluster.runtime.pending.length, 1);
  assert.equal(gone.ctx.upstream, undefined);
  waiting.ctx.fail({ code: 'REQUEST_TIMEOUT', status: 504, message: 'timed out' });
  assert.equal(cluster.runtime.pending.length, 0, 'so does a request the proxy answered (a timeout)');
});

/** Waiting requests through a stack (retry, balance, forward) over `n` endpoints, all at maxConnections. */
function waitingThroughStack(n: number, outlier?: OutlierConfig) {
  const endpoints = fakeEndpoints(n);
  const cluster = clusterState('app', endpoints, { limits: { ...DEFAULT_LIMITS, maxConnections: 0, maxPendingRequests: 10 }, ...(outlier ? { outlier } : {}) });
  const request = () => {
    const r = fakeRequest({ cluster, route: compiledRoute({}, [{ item: cluster, weight: 1 }]), layers: [retryLayer, balanceLayer], terminal: forward as Handler });
    r.ctx.scope.stack.serve(r.ctx);
    return r;
  };
  return { cluster, endpoints, request };
}

test('a waiting request whose endpoint leaves the cluster (EDS) is re-routed to another endpoint and waits there', () => {
  const { cluster, endpoints, request } = waitingThroughStack(2);
  const waiting = [request(), request(), request(), request()];
  const gone = waiting[0]!.ctx.endpoint;
  const kept = endpoints.find((e) => e !== gone)!;
  cluster.runtime.update(cluster.config, [{ target: kept, healthy: true, weight: 1 }]);
  assert.equal(cluster.runtime.pending.length, 4, 'all still wait: none failed');
  for (const w of waiting) {
    assert.equal(w.ctx.endpoint, kept);
    assert.equal(w.down.response, undefined);
  }
  assert.equal(cluster.runtime.events.reroutes.endpoint_removed, 2, 'the two bound for the endpoint that left');
});

test('a waiting request whose endpoint turns unhealthy is re-routed; with no healthy endpoint left nothing moves', () => {
  const { cluster, endpoints, request } = waitingThroughStack(2);
  const w = request();
  const first = w.ctx.endpoint;
  const other = endpoints.find((e) => e !== first)!;
  cluster.runtime.update(cluster.config, [
    { target: first, healthy: false, weight: 1 },
    { target: other, healthy: true, weight: 1 },
  ]);
  assert.equal(w.ctx.endpoint, other);
  cluster.runtime.update(cluster.config, [
    { target: first, healthy: false, weight: 1 },
    { target: other, healthy: false, weight: 1 },
  ]);
  assert.equal(w.ctx.endpoint, other, 'all unhealthy: the balancer uses them all, so nothing moves');
  assert.deepEqual(cluster.runtime.events.reroutes, { endpoint_removed: 1, endpoint_ejected: 0 });
});

test('a waiting request whose endpoint is ejected is re-routed to one not ejected', (t) => {
  const { cluster, request } = waitingThroughStack(3, { consecutiveErrors: 1, intervalMs: 60_000, baseEjectionMs: 60_000, maxEjectionPercent: 50 });
  t.after(() => cluster.runtime.stop());
  const w = request();
  const bad = w.ctx.endpoint;
  cluster.runtime.outlier!.record(bad, false);
  assert.equal(cluster.runtime.outlier!.isEjected(bad), true);
  assert.notEqual(w.ctx.endpoint, bad);
  assert.equal(cluster.runtime.pending.length, 1, 'waiting again, for its new endpoint');
  assert.equal(w.down.response, undefined);
  assert.equal(cluster.runtime.events.ejections.consecutive_errors, 1);
  assert.deepEqual(cluster.runtime.events.reroutes, { endpoint_removed: 0, endpoint_ejected: 1 });
});

test('an ejection maxEjectionPercent holds back is counted once per run of errors', (t) => {
  const { cluster, endpoints } = waitingThroughStack(3, { consecutiveErrors: 2, intervalMs: 60_000, baseEjectionMs: 60_000, maxEjectionPercent: 10, alwaysEjectOne: true });
  t.after(() => cluster.runtime.stop());
  const outlier = cluster.runtime.outlier!;
  for (let i = 0; i < 2; i++) outlier.record(endpoints[0]!, false);
  for (let i = 0; i < 5; i++) outlier.record(endpoints[1]!, false);
  assert.equal(outlier.ejected, 1);
  assert.deepEqual(cluster.runtime.events.ejectionsOverflow, { consecutive_errors: 1, failure_percent: 0 });
});
