// The outbound stack: its layers in their contract order, and requests the proxy answers itself
// going through all of them with a fake downstream (no sockets): counted, sourced, answered once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { Router } from '../routing/router.js';
import { routeTable, rule, virtualHost } from '../testing/config-builder.js';
import { clusterState, fakeRequest, testTelemetry } from '../testing/http-fakes.js';
import { buildOutboundStack } from './outbound-stack.js';

test('the outbound layers, outermost first', () => {
  const stack = buildOutboundStack({ metrics: new ProxyMetrics(), telemetry: testTelemetry() });
  assert.deepEqual(
    stack.layers.map((l) => l.name),
    [
      'source',
      'metrics',
      'request-target',
      'trace',
      'access-log',
      'tap',
      'route',
      'rate-limit',
      'fault',
      'redirect',
      'rewrite',
      'mirror',
      'cluster-pick',
      'circuit-breaker',
      'timeout',
      'retry',
      'balance',
    ],
  );
});

test('requests answered inside the stack (no route, a fault abort, a redirect) are each answered once and counted', () => {
  const metrics = new ProxyMetrics();
  const stack = buildOutboundStack({ metrics, telemetry: testTelemetry() });
  const app = clusterState('app');
  const router = new Router(
    routeTable('routes', [
      virtualHost(
        'shop',
        ['shop.test'],
        [
          rule('chaos', 'app', { path: { type: 'prefix', value: '/chaos' }, fault: { headers: [], abort: { httpStatus: 503, grpcStatus: undefined, perMillion: 1_000_000 } } }),
          rule('moved', [], { path: { type: 'prefix', value: '/old' }, redirect: { status: 308, path: '/new', stripQuery: false } }),
        ],
      ),
    ]),
    () => app,
  );
  const statuses: number[] = [];
  for (const path of ['/nothing', '/chaos/x', '/old?q=1']) {
    const { ctx, down } = fakeRequest({ stack, router, authority: 'shop.test', path });
    stack.serve(ctx);
    assert.equal(down.responses.length, 1, path);
    assert.equal(ctx.upstreamHeaders?.[0], 'x-trellis-source', 'the source layer ran first');
    statuses.push(down.response!.status);
    ctx.downstreamClosed();
  }
  assert.deepEqual(statuses, [404, 503, 308]);
  const recorded = [...metrics.allStats()].map((s) => [s.labels.route, [...s.codes.keys()].map((k) => Math.floor(k / 32))]);
  assert.deepEqual(recorded.sort(), [
    ['', [404]],
    ['shop/chaos', [503]],
    ['shop/moved', [308]],
  ]);
});
