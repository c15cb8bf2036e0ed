// The layer contract: the way down in stack order, the way up innermost first (a layer that
// takes an attempt over hides it from the layers above), and a retry built on it with a real
// data plane.
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
import { HttpStack, StackBuilder, type Handler, type HttpLayer } from './layer.js';
import { clusterPickLayer } from '../layers/cluster-pick-layer.js';
import { retryLayer } from '../layers/retry-layer.js';
import { routeLayer } from '../layers/route-layer.js';
import type { ProxyError } from '../errors.js';
import type { RequestContext } from './request-context.js';

test('a request goes down the layers outermost first, then to the terminal', () => {
  const seen: string[] = [];
  const mark = (name: string): HttpLayer => ({ name, request: (ctx, next) => (seen.push(name), next(ctx)) });
  const stack = new HttpStack([mark('a'), mark('b'), mark('c')], () => seen.push('terminal'));
  stack.serve({} as RequestContext);
  assert.deepEqual(seen, ['a', 'b', 'c', 'terminal']);
});

test('the stack builder takes a layer only below the stage it needs: a wrong order does not compile', () => {
  const ok = StackBuilder.top().then(routeLayer).then(clusterPickLayer).then(retryLayer).then(balanceLayer).end(forward);
  assert.deepEqual(
    ok.layers.map((l) => l.name),
    ['route', 'cluster-pick', 'retry', 'balance'],
  );
  // Each line below is a compile error (the build fails if it stops being one).
  // @ts-expect-error the balance layer needs a backend, which only cluster pick gives
  StackBuilder.top().then(routeLayer).then(balanceLayer);
  // @ts-expect-error the retry layer needs a backend
  StackBuilder.top().then(retryLayer);
  // @ts-expect-error the forwarder needs an endpoint
  StackBuilder.top().then(routeLayer).then(clusterPickLayer).end(forward);
});

test("an attempt's response head and failure go up innermost first, and stop at the layer that takes them over", () => {
  const seen: string[] = [];
  const observer = (name: string, takes: boolean): HttpLayer => ({
    name,
    request: (ctx, next) => next(ctx),
    onResponseHead: (_ctx, status) => (seen.push(`${name}:${status}`), takes),
    onAttemptFailed: (_ctx, error) => (seen.push(`${name}:${error.code}`), takes),
  });
  const passive: HttpLayer = { name: 'passive', request: (ctx, next) => next(ctx) };
  const stack = new HttpStack([observer('outer', false), passive, observer('middle', true), observer('inner', false)], () => {});
  const ctx = {} as RequestContext;
  assert.equal(stack.responseHead(ctx, 503, -1), true, 'middle took it over');
  assert.equal(stack.attemptFailed(ctx, { code: 'UPSTREAM_RESET' } as ProxyError), true);
  assert.deepEqual(seen, ['inner:503', 'middle:503', 'inner:UPSTREAM_RESET', 'middle:UPSTREAM_RESET'], 'outer never saw what middle took over');
  seen.length = 0;
  const none = new HttpStack([observer('outer', false), passive], () => {});
  assert.equal(none.responseHead(ctx, 200, -1), false, 'nobody took it: it goes downstream');
  assert.deepEqual(seen, ['outer:200']);
});

test('a retry layer built on onAttemptFailed re-picks an endpoint after a refused connection', { timeout: 10_000 }, async (t) => {
  const good = await startEchoServer(t, 'good');
  const dead = await freePort();
  const registry = new EndpointRegistry();
  t.after(() => registry.close());
  // Round robin over [dead, good]: whichever comes first, one retry reaches the good one.
  const members = [dead, good.port].map((p) => ({ target: registry.get('127.0.0.1', p), healthy: true, weight: 1 }));
  const state: ClusterState = {
    name: 'app',
    service: 'app',
    connectTimeoutMs: 1000,
    balancer: createBalancer('round_robin', members),
    config: cluster('app', [endpoint(dead), endpoint(good.port)]),
    runtime: new ClusterRuntime(),
    endpoints: members.map((m) => m.target),
  };

  let retries = 0;
  let totalRetries = 0;
  let again: ((ctx: RequestContext) => void) | undefined;
  const retryOnce: HttpLayer = {
    name: 'retry-once',
    request(ctx, next) {
      again = next;
      next(ctx);
    },
    onAttemptFailed(ctx) {
      if (retries > 0) return false;
      retries++;
      totalRetries++;
      again!(ctx);
      return true;
    },
  };
  const router = new Router(routeTable('r', [virtualHost('all', ['*'], [rule('r', 'app')])]), () => state);
  // Route and backend in one layer: the stages the balance layer needs.
  const pickCluster: HttpLayer = {
    name: 'pick-cluster',
    request(ctx, next) {
      ctx.route = router.route(ctx.authority, ctx);
      ctx.cluster = state;
      next(ctx);
    },
  };
  const scope: HttpListenerScope = { listener: httpListener('l', 0), router, stack: new HttpStack([pickCluster, retryOnce, balanceLayer], forward as Handler) };
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
