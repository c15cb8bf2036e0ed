// The forward handler (the stacks' terminal), where it needs no connection: an HTTP/1.x request
// to a cluster with circuit breaker limits at maxConnections waits in the cluster's pending
// queue, or fails fast with 503 CIRCUIT_BREAKER_OPEN (max_pending_requests) when that is full;
// a client that goes away takes its request out of the queue. Forwarding itself is tested over
// loopback in http/h1-forwarding.test.ts and http/h2-forwarding.test.ts.
import type { RequestContext } from '../http/request-context.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS } from '../config/resilience-config.js';
import { clusterState, fakeEndpoints, fakeRequest } from '../testing/http-fakes.js';
import { forward } from './forward-layer.js';

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
