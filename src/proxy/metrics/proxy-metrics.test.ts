// Proxy metrics: exact counts after N requests through a data plane, latency histogram
// series, gRPC status labels, and the accumulator arithmetic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../common/wait.js';
import { runtimeConfig, simpleConfig } from '../testing/config-builder.js';
import { request, startDataPlane, startEchoServer } from '../testing/test-servers.js';
import { seriesSum } from './prom-text.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { DURATION_BUCKETS, NO_GRPC_STATUS, RequestStats } from './request-stats.js';

/** The sum of the series of `name` whose labels include `labels` (written `a="x",b="y"`), or undefined. */
function series(text: string, name: string, labels: string): number | undefined {
  const subset = Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  // direction is in the histogram's name, not its labels.
  if (name.startsWith('trellis_request_duration_seconds')) {
    name = name.replace('trellis_request_duration_seconds', subset.direction === 'inbound' ? 'http_server_request_duration_seconds' : 'http_client_request_duration_seconds');
    delete subset.direction;
  }
  return seriesSum(text, name, subset);
}

test('requests are counted exactly, by direction, service and code', { timeout: 10_000 }, async (t) => {
  let n = 0;
  const upstream = await startEchoServer(t, 'app', (_req, res) => res.writeHead(n++ % 3 === 0 ? 500 : 200).end('x'));
  const { plane, metrics } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [upstream.port]));
  const port = plane.port('out')!;
  for (let i = 0; i < 30; i++) await request(port);
  // Requests are recorded when the downstream response closes, just after the client has it.
  await waitFor(async () => series(await metrics.text(), 'trellis_request_duration_seconds_count', 'direction="outbound",service="app"') === 30, '30 requests recorded', 3000);
  const text = await metrics.text();
  assert.equal(series(text, 'trellis_requests_total', 'direction="outbound",service="app",code="200"'), 20);
  assert.equal(series(text, 'trellis_requests_total', 'direction="outbound",service="app",code="500"'), 10);
  assert.equal(series(text, 'trellis_request_duration_seconds_count', 'direction="outbound",service="app"'), 30);
  assert.equal(series(text, 'trellis_request_duration_seconds_bucket', 'direction="outbound",service="app",le="+Inf"'), 30);
  assert.ok(series(text, 'trellis_request_duration_seconds_sum', 'direction="outbound",service="app"')! > 0);
});

test('the proxy\'s own answers are counted, with service "unknown" when no route matched', { timeout: 10_000 }, async (t) => {
  const { plane, metrics } = startDataPlane(t);
  await plane.apply(runtimeConfig({ listeners: [{ name: 'out', direction: 'inbound', address: '127.0.0.1', port: 0, protocol: 'http', routeTable: 'none', httpProxy: false }] }));
  for (let i = 0; i < 4; i++) assert.equal((await request(plane.port('out')!)).status, 404);
  await waitFor(async () => series(await metrics.text(), 'trellis_request_duration_seconds_count', 'direction="inbound",service="unknown"') === 4, '4 requests recorded', 3000);
  assert.equal(series(await metrics.text(), 'trellis_requests_total', 'direction="inbound",service="unknown",code="404"'), 4);
});

test('counts keep growing across scrapes (the counter is not reset by reading)', () => {
  const m = new ProxyMetrics();
  const s = m.requestStats('inbound', 'svc');
  s.record(200, NO_GRPC_STATUS, 0.001);
  return m.text().then(async (first) => {
    assert.equal(series(first, 'trellis_requests_total', 'direction="inbound",service="svc",code="200"'), 1);
    s.record(200, NO_GRPC_STATUS, 0.001);
    s.record(200, 0, 0.001);
    const second = await m.text();
    assert.equal(seriesSum(second, 'trellis_requests_total', { direction: 'inbound', service: 'svc', code: '200', grpc_status: '0' }), 1);
    assert.equal(series(second, 'trellis_requests_total', 'direction="inbound",service="svc",code="200"'), 3);
    assert.equal(series(second, 'trellis_requests_total', 'direction="inbound",service="svc",code="200",grpc_status="0"'), 1);
  });
});

test('histogram buckets are cumulative and the sum adds up', async () => {
  const m = new ProxyMetrics();
  const s = m.requestStats('outbound', 'x');
  for (const v of [0.00005, 0.0003, 0.0003, 0.02, 30]) s.record(200, NO_GRPC_STATUS, v);
  const text = await m.text();
  const bucket = (le: string) => series(text, 'trellis_request_duration_seconds_bucket', `direction="outbound",service="x",le="${le}"`);
  assert.equal(bucket('0.0001'), 1);
  assert.equal(bucket('0.0005'), 3);
  assert.equal(bucket('0.025'), 4);
  assert.equal(bucket('10'), 4);
  assert.equal(bucket('+Inf'), 5);
  assert.ok(Math.abs(series(text, 'trellis_request_duration_seconds_sum', 'direction="outbound",service="x"')! - 30.02065) < 1e-9);
  assert.match(text, /# TYPE http_client_request_duration_seconds histogram/);
  assert.match(text, /# TYPE http_server_request_duration_seconds histogram/);
});

test('the stats object per (direction, service) is cached', () => {
  const m = new ProxyMetrics();
  assert.equal(m.requestStats('inbound', 'a'), m.requestStats('inbound', 'a'));
  assert.notEqual(m.requestStats('inbound', 'a'), m.requestStats('outbound', 'a'));
});

test('code keys round-trip status and gRPC status', () => {
  const s = new RequestStats('inbound', 'svc');
  s.record(503, 14, 0.1);
  s.record(404, NO_GRPC_STATUS, 0.1);
  const decoded = [...s.codes.keys()].map((k) => RequestStats.decodeKey(k));
  assert.deepEqual(decoded, [
    { code: '503', grpcStatus: '14' },
    { code: '404', grpcStatus: undefined },
  ]);
  assert.equal(DURATION_BUCKETS[0], 0.0001);
});

test('TLS handshake and resilience counts are exposed per label set, cached, and only when non-zero', async () => {
  const m = new ProxyMetrics();
  const inbound = m.tlsHandshakes('inbound', 'web.default');
  assert.equal(m.tlsHandshakes('inbound', 'web.default'), inbound);
  inbound.ok += 3;
  inbound.failed.protocol++;
  m.tlsHandshakes('outbound', 'api.default').failed.wrong_identity += 2;
  const events = m.clusterEvents('api.default');
  assert.equal(m.clusterEvents('api.default'), events);
  events.retries['5xx'] += 4;
  events.timeouts.outbound.per_try++;
  events.breakerRejections.max_pending_requests++;
  events.ejections.consecutive_errors++;
  events.mirrors.dropped_body_too_large++;
  const text = await m.text();
  assert.equal(seriesSum(text, 'trellis_tls_handshakes_total', { direction: 'inbound', service: 'web.default', result: 'ok' }), 3);
  assert.equal(seriesSum(text, 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'failed', reason: 'protocol' }), 1);
  assert.equal(seriesSum(text, 'trellis_tls_handshakes_total', { direction: 'outbound', service: 'api.default', result: 'failed', reason: 'wrong_identity' }), 2);
  assert.equal(seriesSum(text, 'trellis_tls_handshakes_total', { direction: 'outbound', result: 'ok' }), undefined, 'no zero series');
  assert.equal(seriesSum(text, 'trellis_retries_total', { service: 'api.default', reason: '5xx' }), 4);
  assert.equal(seriesSum(text, 'trellis_retries_total', { reason: 'reset' }), undefined);
  assert.equal(seriesSum(text, 'trellis_timeouts_total', { direction: 'outbound', service: 'api.default', kind: 'per_try' }), 1);
  assert.equal(seriesSum(text, 'trellis_circuit_breaker_rejections_total', { service: 'api.default', limit: 'max_pending_requests' }), 1);
  assert.equal(seriesSum(text, 'trellis_outlier_ejections_total', { service: 'api.default', reason: 'consecutive_errors' }), 1);
  assert.equal(seriesSum(text, 'trellis_mirror_requests_total', { service: 'api.default', outcome: 'dropped_body_too_large' }), 1);
  assert.equal(seriesSum(text, 'trellis_mirror_requests_total', { outcome: 'sent' }), undefined);
  for (const name of [
    'trellis_tls_handshakes_total',
    'trellis_retries_total',
    'trellis_timeouts_total',
    'trellis_circuit_breaker_rejections_total',
    'trellis_outlier_ejections_total',
    'trellis_mirror_requests_total',
  ]) {
    assert.match(text, new RegExp(`# TYPE ${name} counter`));
  }
});

test('what the proxy refused on purpose is exposed: retries over the budget or maxRetries, held-back ejections, re-routed waiters', async () => {
  const m = new ProxyMetrics();
  const events = m.clusterEvents('api.default');
  events.retriesRefused.retry_budget += 2;
  events.retriesRefused.max_retries++;
  events.ejectionsOverflow.consecutive_errors++;
  events.reroutes.endpoint_ejected += 3;
  const text = await m.text();
  assert.equal(seriesSum(text, 'trellis_retries_refused_total', { service: 'api.default', reason: 'retry_budget' }), 2);
  assert.equal(seriesSum(text, 'trellis_retries_refused_total', { service: 'api.default', reason: 'max_retries' }), 1);
  assert.equal(seriesSum(text, 'trellis_outlier_ejections_overflow_total', { service: 'api.default', reason: 'consecutive_errors' }), 1);
  assert.equal(seriesSum(text, 'trellis_outlier_ejections_overflow_total', { reason: 'failure_percent' }), undefined, 'no zero series');
  assert.equal(seriesSum(text, 'trellis_requests_rerouted_total', { service: 'api.default', reason: 'endpoint_ejected' }), 3);
  for (const name of ['trellis_retries_refused_total', 'trellis_outlier_ejections_overflow_total', 'trellis_requests_rerouted_total'])
    assert.match(text, new RegExp(`# TYPE ${name} counter`));
});
