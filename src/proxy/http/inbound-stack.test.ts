// The inbound stack: its layers in their contract order; authorization judges the normalized
// path before routing, and a denied request is answered and counted inside the stack (no sockets).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzRules } from '../config/authz-config.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { Router } from '../routing/router.js';
import { routeTable, rule, virtualHost } from '../testing/config-builder.js';
import { clusterState, fakeRequest, testTelemetry } from '../testing/http-fakes.js';
import { buildInboundStack } from './inbound-stack.js';

test('the inbound layers, outermost first', () => {
  const stack = buildInboundStack({ metrics: new ProxyMetrics(), telemetry: testTelemetry() });
  assert.deepEqual(
    stack.layers.map((l) => l.name),
    ['source', 'metrics', 'request-target', 'jwt', 'authz', 'trace', 'access-log', 'tap', 'route', 'cluster-pick', 'timeout', 'retry', 'balance'],
  );
});

test('a path that only reaches /admin once normalized is denied (403) before routing, and counted', async () => {
  const metrics = new ProxyMetrics();
  const stack = buildInboundStack({ metrics, telemetry: testTelemetry() });
  const denyAdmin: AuthzRules = { action: 'deny', policies: [{ name: 'default/no-admin/rules[0]', principals: [{ any: true }], permissions: [{ path: { prefix: '/admin' } }] }] };
  const router = new Router(routeTable('routes', [virtualHost('all', ['*'], [rule('app', 'inbound|8080')])]), () => clusterState('inbound|8080'));
  const { ctx, down } = fakeRequest({
    stack,
    router,
    path: '/public/../admin/users',
    listener: { direction: 'inbound', authz: [denyAdmin], pathNormalization: { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' } },
  });
  stack.serve(ctx);
  assert.equal(down.response?.status, 403);
  assert.equal(ctx.path, '/admin/users');
  assert.equal(ctx.route, undefined, 'never routed');
  ctx.downstreamClosed();
  const text = await metrics.text();
  assert.match(text, /trellis_authz_decisions_total\{direction="inbound",listener="l",decision="deny",policy="default\/no-admin\/rules\[0\]"\} 1/);
  assert.deepEqual(
    [...metrics.allStats()].map((s) => [s.labels.direction, s.labels.service, s.count]),
    [['inbound', 'unknown', 1]],
  );
});
