// The metrics layer: every request is recorded once, when it is over, with the status that went
// downstream, its latency and body bytes, under its labels: direction, destination service
// ("unknown" with no route; this proxy's own service inbound), the source, and the route.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { RequestStats } from '../metrics/request-stats.js';
import { clusterState, compiledRoute, completeResponse, fakeRequest, NextRecorder, testTelemetry, type FakeRequestOptions } from '../testing/http-fakes.js';
import { metricsLayer } from './metrics-layer.js';

/** performance.now() in the test's hands (the context reads it when created). */
function fakeClock(t: TestContext): { advance(ms: number): void } {
  let now = 5_000;
  t.mock.method(performance, 'now', () => now);
  return { advance: (ms) => void (now += ms) };
}

function run(o: FakeRequestOptions = {}, metrics = new ProxyMetrics()) {
  const next = new NextRecorder();
  const r = fakeRequest(o);
  metricsLayer(metrics, testTelemetry()).request(r.ctx, next.handler);
  assert.deepEqual(next.calls, [r.ctx], 'always passed on');
  return { ...r, metrics };
}

const recorded = (metrics: ProxyMetrics): RequestStats[] => [...metrics.allStats()].filter((s) => s.count > 0);

test('an outbound request is recorded when it is over: status, latency, bytes, labels', (t) => {
  const clock = fakeClock(t);
  const cluster = clusterState('payments');
  const { ctx, metrics } = run({ cluster, route: compiledRoute({}, [{ item: cluster, weight: 1 }]) });
  ctx.sourceService = 'web.default';
  ctx.sourceWorkload = 'web-v1';
  ctx.sourceAuthenticated = true;
  assert.deepEqual(recorded(metrics), [], 'nothing while the request is under way');
  clock.advance(250);
  ctx.requestBytes = 10;
  ctx.responseBytes = 2048;
  completeResponse(ctx, 201);
  const [stats, ...more] = recorded(metrics);
  assert.deepEqual(more, []);
  assert.deepEqual(stats!.labels, {
    direction: 'outbound',
    service: 'payments.default',
    sourceService: 'web.default',
    sourceWorkload: 'web-v1',
    sourceAuthenticated: true,
    destinationWorkload: 'unknown',
    route: 'all/r',
  });
  assert.equal(stats!.count, 1);
  assert.equal(stats!.sum, 0.25);
  assert.deepEqual(
    [...stats!.codes].map(([k, n]) => [k, n]),
    [[201 * 32 + 31, 1]],
    'status 201, no gRPC status',
  );
  assert.deepEqual([stats!.requestBytes, stats!.responseBytes], [10, 2048]);
  ctx.downstreamClosed();
  assert.equal(stats!.count, 1, 'recorded once');
});

test('a request the proxy answered itself is recorded with its status, under service "unknown" when no route matched', (t) => {
  fakeClock(t);
  const { ctx, metrics } = run();
  ctx.fail({ code: 'NO_ROUTE', status: 404, message: 'no route' });
  ctx.downstreamClosed();
  const [stats] = recorded(metrics);
  assert.equal(stats!.labels.service, 'unknown');
  assert.equal(stats!.labels.route, '');
  assert.deepEqual([...stats!.codes.keys()], [404 * 32 + 31]);
});

test("inbound, the destination is this proxy's service and workload once a cluster was chosen", (t) => {
  fakeClock(t);
  const metrics = new ProxyMetrics();
  const served = run({ listener: { direction: 'inbound' }, cluster: clusterState('inbound|8080') }, metrics);
  served.ctx.grpcStatus = 14;
  completeResponse(served.ctx, 200);
  const unrouted = run({ listener: { direction: 'inbound' } }, metrics);
  completeResponse(unrouted.ctx, 404);
  const byService = new Map(recorded(metrics).map((s) => [s.labels.service, s]));
  assert.deepEqual([...byService.keys()].sort(), ['unknown', 'web.default']);
  assert.equal(byService.get('web.default')!.labels.destinationWorkload, 'web-v1');
  assert.equal(byService.get('web.default')!.labels.direction, 'inbound');
  assert.deepEqual([...byService.get('web.default')!.codes.keys()], [200 * 32 + 14], 'with its gRPC status');
});

test('a request whose client went away is recorded with status 0', (t) => {
  fakeClock(t);
  const { ctx, metrics } = run();
  ctx.downstreamClosed();
  assert.deepEqual([...recorded(metrics)[0]!.codes.keys()], [0 * 32 + 31]);
});
