// The metrics layer: every request is recorded once, when it is over, with the status that went
// downstream, its latency and body bytes, under its labels: direction, destination service
// ("unknown" with no route; this proxy's own service inbound), the source, and the route.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { samples, seriesSum } from '../metrics/prom-text.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { RequestStats } from '../metrics/request-stats.js';
import { clusterState, compiledRoute, completeResponse, fakeRequest, NextRecorder, testTelemetry, type FakeRequestOptions } from '../testing/http-fakes.js';
import { upstreamReset } from '../errors.js';
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

test('OpenTelemetry series: method, status, route, error type, server address and port, scheme; active requests while under way', async (t) => {
  const clock = fakeClock(t);
  const metrics = new ProxyMetrics();
  const cluster = clusterState('outbound|8080||payments.default', [], { service: 'payments.default' });
  const route = compiledRoute({}, [{ item: cluster, weight: 1 }]);
  const ok = run({ method: 'POST', path: '/pay/123', cluster, route }, metrics).ctx;
  const failed = run({ method: 'GET', cluster, route }, metrics).ctx;
  const odd = run({ method: 'PURGE', cluster, route }, metrics).ctx;
  let text = await metrics.text();
  assert.equal(seriesSum(text, 'http_client_active_requests', { http_request_method: 'POST', url_scheme: 'http' }), 1);
  assert.equal(seriesSum(text, 'http_client_active_requests', { http_request_method: '_OTHER' }), 1);
  clock.advance(3);
  ok.requestBytes = 500;
  ok.responseBytes = 20;
  completeResponse(ok, 201);
  failed.fail(upstreamReset('10.1.0.1:8080'));
  completeResponse(failed, 503);
  completeResponse(odd, 404);
  text = await metrics.text();
  const base = { service: 'payments.default', http_route: 'all/r', server_address: 'payments.default', server_port: '8080', url_scheme: 'http' };
  const d = 'http_client_request_duration_seconds';
  assert.equal(seriesSum(text, `${d}_count`, { ...base, http_request_method: 'POST', http_response_status_code: '201' }), 1);
  assert.equal(seriesSum(text, `${d}_bucket`, { ...base, http_request_method: 'POST', le: '0.0025' }), 0);
  assert.equal(seriesSum(text, `${d}_bucket`, { ...base, http_request_method: 'POST', le: '0.005' }), 1);
  assert.equal(seriesSum(text, `${d}_count`, { ...base, http_request_method: 'GET', http_response_status_code: '503', error_type: failed.error!.code }), 1);
  assert.equal(seriesSum(text, `${d}_count`, { ...base, http_request_method: '_OTHER', http_response_status_code: '404', error_type: '404' }), 1, 'a 4xx is a client error');
  assert.equal(samples(text, `${d}_count`).find((s) => s.labels.http_response_status_code === '201')!.labels.error_type, undefined, 'no error_type on success');
  assert.equal(seriesSum(text, 'http_client_request_body_size_bytes_sum', { http_request_method: 'POST' }), 500);
  assert.equal(seriesSum(text, 'http_client_request_body_size_bytes_bucket', { http_request_method: 'POST', le: '1000' }), 1);
  assert.equal(seriesSum(text, 'http_client_request_body_size_bytes_bucket', { http_request_method: 'POST', le: '100' }), 0);
  assert.equal(seriesSum(text, 'http_client_response_body_size_bytes_sum', { http_request_method: 'POST' }), 20);
  assert.equal(seriesSum(text, 'http_client_active_requests', {}), 0, 'all over');
});

test('inbound: server series on the app port, 4xx is no server error, https on TLS listeners; target_info names the proxy', async () => {
  const metrics = new ProxyMetrics();
  const telemetry = testTelemetry();
  try {
    const cluster = clusterState('inbound|9000', [], { service: 'web.default' });
    const next = new NextRecorder();
    const r = fakeRequest({ listener: { direction: 'inbound', tls: {} as never }, cluster, route: compiledRoute({}, [{ item: cluster, weight: 1 }]) });
    metricsLayer(metrics, telemetry).request(r.ctx, next.handler);
    completeResponse(r.ctx, 404);
    const text = await metrics.text();
    const [s, ...more] = samples(text, 'http_server_request_duration_seconds_count');
    assert.deepEqual(more, []);
    assert.equal(s!.labels.server_port, '9000');
    assert.equal(s!.labels.url_scheme, 'https');
    assert.equal(s!.labels.http_response_status_code, '404');
    assert.equal(s!.labels.error_type, undefined);
    const m2 = new ProxyMetrics();
    const t2 = testTelemetry({ metrics: m2 });
    try {
      const [info] = samples(await m2.text(), 'target_info');
      assert.equal(info!.value, 1);
      assert.equal(info!.labels.service_name, t2.identity.serviceName);
      assert.equal(info!.labels.service_namespace, t2.identity.namespace);
      assert.equal(info!.labels.service_instance_id, t2.identity.nodeId);
    } finally {
      await t2.close();
    }
  } finally {
    await telemetry.close();
  }
});

test('random paths, ids and hosts add no series: labels come from config and fixed lists only', async () => {
  const metrics = new ProxyMetrics();
  const cluster = clusterState('outbound|8080||payments.default', [], { service: 'payments.default' });
  const route = compiledRoute({}, [{ item: cluster, weight: 1 }]);
  const seriesCount = async () => (await metrics.text()).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const send = (i: number) => {
    const { ctx } = run({ method: i % 2 ? 'GET' : `X-${i}`, path: `/users/${i}/${Math.random()}`, authority: `h${i}.example:${1000 + i}`, cluster, route }, metrics);
    completeResponse(ctx, 200);
  };
  for (let i = 0; i < 4; i++) send(i);
  const before = await seriesCount();
  for (let i = 4; i < 500; i++) send(i);
  assert.equal(await seriesCount(), before);
});
