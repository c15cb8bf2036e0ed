// The layer contract: composition order, and that the seams later layers need (done hooks,
// the attempt-failure handler for retries) work with a real data plane.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '../../common/free-port.js';
import type { ClusterState, HttpListenerScope } from '../data-plane-snapshot.js';
import { balanceLayer } from '../layers/balance-layer.js';
import { forward } from '../layers/forward-layer.js';
import { EndpointRegistry } from '../pool/endpoint-registry.js';
import { createBalancer } from '../balancer/index.js';
import { Router } from '../routing/router.js';
import { httpListener, routeTable, rule, virtualHost, cluster, endpoint } from '../testing/config-builder.js';
import { request, startEchoServer } from '../testing/test-servers.js';
import { HttpListener } from '../listeners/http-listener.js';
import { ClusterRuntime } from '../resilience/cluster-runtime.js';
import { compose, type Layer } from './layer.js';
import type { RequestContext } from './request-context.js';

test('compose runs layers outermost first and the terminal last', () => {
  const seen: string[] = [];
  const mark = (name: string): Layer => (next) => (ctx) => {
    seen.push(name);
    next(ctx);
  };
  const handler = compose([mark('a'), mark('b'), mark('c')], () => seen.push('terminal'));
  handler({} as RequestContext);
  assert.deepEqual(seen, ['a', 'b', 'c', 'terminal']);
});

test('a retry layer built on attemptFailureHandler re-picks an endpoint after a refused connection', { timeout: 10_000 }, async (t) => {
  const good = await startEchoServer(t, 'good');
  const dead = await freePort();
  const registry = new EndpointRegistry();
  t.after(() => registry.close());
  // Round robin over [dead, good]: whichever comes first, one retry reaches the good one.
  const members = [dead, good.port].map((p) => ({ target: registry.get('127.0.0.1', p), healthy: true, weight: 1 }));
  const state: ClusterState = { name: 'app', service: 'app', connectTimeoutMs: 1000, balancer: createBalancer('round_robin', members), config: cluster('app', [endpoint(dead), endpoint(good.port)]), runtime: new ClusterRuntime(), endpoints: members.map((m) => m.target) };

  let retries = 0;
  let totalRetries = 0;
  const retryOnce: Layer = (next) => {
    const handler = (ctx: RequestContext): boolean => {
      if (retries > 0) return false;
      retries++;
      totalRetries++;
      next(ctx);
      return true;
    };
    return (ctx) => {
      ctx.attemptFailureHandler = handler;
      next(ctx);
    };
  };
  const pickCluster: Layer = (next) => (ctx) => {
    ctx.cluster = state;
    next(ctx);
  };
  const router = new Router(routeTable('r', [virtualHost('all', ['*'], [rule('r', 'app')])]), () => state);
  const scope: HttpListenerScope = { listener: httpListener('l', 0), router, handler: compose([pickCluster, retryOnce, balanceLayer], forward) };
  const opened = await HttpListener.open(scope);
  assert.ok(opened.ok);
  t.after(() => opened.value.close(100));
  for (let i = 0; i < 2; i++) {
    retries = 0;
    const res = await request(opened.value.bound.port);
    assert.equal(res.status, 200, res.body);
  }
  assert.ok(totalRetries >= 1, 'round robin met the dead endpoint in two requests, and a retry saved each time');
});
