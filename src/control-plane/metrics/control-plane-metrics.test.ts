// The control plane's metrics: proxies by kind and state, store revision, CA signings, and API
// requests by a bounded route label; GET /metrics only.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import type { ProxyStatus } from '../../api/proxy-status.js';
import { apiRouteLabel, methodLabel } from './api-route-label.js';
import { ControlPlaneMetrics } from './control-plane-metrics.js';
import { CLUSTER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';

type Json = Awaited<ReturnType<ControlPlaneMetrics['registry']['getMetricsAsJSON']>>;

/** The sum of the values of series `name` (a histogram's `_bucket`, `_sum`, `_count` too) whose labels include `subset`; undefined when none matches. */
function seriesSum(json: Json, name: string, subset: Record<string, string>): number | undefined {
  let sum: number | undefined;
  for (const m of json) {
    for (const x of m.values) {
      if (((x as { metricName?: string }).metricName ?? m.name) !== name) continue;
      if (Object.entries(subset).every(([k, val]) => String(x.labels[k]) === val)) sum = (sum ?? 0) + x.value;
    }
  }
  return sum;
}

const v = (n: string) => ({ listeners: n, routes: n, clusters: n, endpoints: n });
const proxy = (over: Partial<ProxyStatus>): ProxyStatus => ({
  id: 'p',
  service: 's',
  namespace: 'default',
  address: '10.0.0.1',
  connected: true,
  lastSeen: '',
  versions: v('1'),
  current: v('1'),
  nacks: [],
  ...over,
});

/** A response that closes when told, as node:http's does when the request is over. */
function fakeExchange(method: string, url: string): { req: IncomingMessage; res: ServerResponse & EventEmitter; finish(status: number): void } {
  const res = new EventEmitter() as ServerResponse & EventEmitter;
  return {
    req: { method, url } as IncomingMessage,
    res,
    finish(status) {
      res.statusCode = status;
      res.emit('close');
    },
  };
}

test('proxies by kind and state, NACKs, store revision and CA signings, read at scrape time', async () => {
  let revision = 7;
  const proxies = [
    proxy({}),
    proxy({ kind: 'grpc' }),
    proxy({ versions: v('1'), current: v('2'), nacks: [{ typeUrl: 't', version: '2', nonce: '1', message: 'bad', at: '' }] }),
    proxy({ connected: false }),
  ];
  const m = new ControlPlaneMetrics({ proxies: () => proxies, storeRevision: () => revision, caSigned: () => 3 });
  let text = await m.registry.getMetricsAsJSON();
  const p = (kind: string, state: string) => seriesSum(text, 'trellis_control_plane_proxies', { kind, state });
  assert.deepEqual(
    [p('sidecar', 'connected'), p('grpc', 'connected'), p('sidecar', 'disconnected'), p('sidecar', 'out_of_sync'), p('sidecar', 'nacking'), p('grpc', 'out_of_sync')],
    [2, 1, 1, 1, 1, 0],
  );
  assert.equal(seriesSum(text, 'trellis_control_plane_proxy_nacks', {}), 1);
  assert.equal(seriesSum(text, 'trellis_control_plane_store_revision', {}), 7);
  assert.equal(seriesSum(text, 'trellis_control_plane_ca_certificates_signed_total', {}), 3);
  revision = 9;
  text = await m.registry.getMetricsAsJSON();
  assert.equal(seriesSum(text, 'trellis_control_plane_store_revision', {}), 9);
});

test('API requests are counted by route, method and status when their response is over; names in paths add no series', async () => {
  const m = new ControlPlaneMetrics({ proxies: () => [], storeRevision: () => 0, caSigned: () => 0 });
  for (let i = 0; i < 5; i++) {
    const x = fakeExchange('GET', `/api/v1/httproutes/shop/route-${i}`);
    m.observe(x.req, x.res);
    x.finish(i < 3 ? 200 : 404);
  }
  const pending = fakeExchange('POST', '/api/v1/apply');
  m.observe(pending.req, pending.res);
  let text = await m.registry.getMetricsAsJSON();
  assert.equal(seriesSum(text, 'trellis_control_plane_api_requests_total', { route: 'item:httproutes', method: 'GET', code: '200' }), 3);
  assert.equal(seriesSum(text, 'trellis_control_plane_api_requests_total', { route: 'item:httproutes', method: 'GET', code: '404' }), 2);
  assert.equal(seriesSum(text, 'trellis_control_plane_api_requests_total', { route: 'apply' }), undefined, 'not over yet');
  pending.finish(200);
  text = await m.registry.getMetricsAsJSON();
  assert.equal(seriesSum(text, 'trellis_control_plane_api_requests_total', { route: 'apply', method: 'POST', code: '200' }), 1);
});

test('route labels come from a fixed set', () => {
  assert.equal(apiRouteLabel('/metrics'), 'metrics');
  assert.equal(apiRouteLabel('/v1/traces'), 'otlp_traces');
  assert.equal(apiRouteLabel('/healthz'), 'healthz');
  assert.equal(apiRouteLabel('/'), 'dashboard');
  assert.equal(apiRouteLabel('/assets/app.js'), 'dashboard');
  assert.equal(apiRouteLabel('/api/v1/telemetry/services/x'), 'telemetry');
  assert.equal(apiRouteLabel('/api/v1/tokens/abc'), 'tokens');
  assert.equal(apiRouteLabel('/api/v1/services'), 'collection:services');
  assert.equal(apiRouteLabel('/api/v1/proxies'), 'proxies');
  assert.equal(apiRouteLabel('/api/v1/no-such-kind/x'), 'unknown');
  assert.equal(methodLabel('PURGE'), '_OTHER');
  assert.equal(methodLabel('GET'), 'GET');
});

test('GET /metrics is served; other paths are left to the API', async () => {
  const m = new ControlPlaneMetrics({ proxies: () => [], storeRevision: () => 4, caSigned: () => 0 });
  const sent: { status?: number; body?: string } = {};
  const res = {
    writeHead(status: number) {
      sent.status = status;
      return { end: (b: string) => void (sent.body = b) };
    },
  } as unknown as ServerResponse;
  assert.equal(m.serve({ method: 'GET', url: '/api/v1/services' } as IncomingMessage, res), false);
  assert.equal(m.serve({ method: 'GET', url: '/metrics' } as IncomingMessage, res), true);
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.status, 200);
  assert.match(sent.body!, /trellis_control_plane_store_revision 4/);
});

test('xDS pushes by type and kind, response sizes, NACKs, snapshot times and store writes; every type has its series before its first push', async () => {
  const m = new ControlPlaneMetrics({ proxies: () => [], storeRevision: () => 0, caSigned: () => 0 });
  let json = await m.registry.getMetricsAsJSON();
  const count = (name: string, labels: Record<string, string> = {}) => seriesSum(json, name, labels);
  for (const type of ['cds', 'eds', 'lds', 'rds', 'sds']) {
    assert.equal(count('trellis_control_plane_xds_nacks_total', { type }), 0, type);
    assert.equal(count('trellis_control_plane_xds_push_duration_seconds_count', { type, kind: 'grpc' }), 0, type);
  }
  m.xds.responseSent(CLUSTER_TYPE, 300);
  m.xds.responseSent(CLUSTER_TYPE, 5000);
  m.xds.responseSent(SECRET_TYPE, 2000);
  m.xds.pushed(ROUTE_TYPE, 'sidecar', 0.03);
  m.xds.pushed(ROUTE_TYPE, 'grpc', 0.3);
  m.xds.nacked(ROUTE_TYPE);
  m.xds.snapshotComputed('sidecar', 0.002);
  m.observeStoreWrite(0.004);
  json = await m.registry.getMetricsAsJSON();
  assert.equal(count('trellis_control_plane_xds_responses_total', { type: 'cds' }), 2);
  assert.equal(count('trellis_control_plane_xds_responses_total', { type: 'sds' }), 1);
  assert.equal(count('trellis_control_plane_xds_push_bytes_sum', { type: 'cds' }), 5300);
  assert.equal(count('trellis_control_plane_xds_push_bytes_bucket', { type: 'cds', le: '1024' }), 1);
  assert.equal(count('trellis_control_plane_xds_push_duration_seconds_bucket', { type: 'rds', kind: 'sidecar', le: '0.05' }), 1);
  assert.equal(count('trellis_control_plane_xds_push_duration_seconds_bucket', { type: 'rds', kind: 'grpc', le: '0.25' }), 0);
  assert.equal(count('trellis_control_plane_xds_push_duration_seconds_count', { type: 'rds', kind: 'grpc' }), 1);
  assert.equal(count('trellis_control_plane_xds_nacks_total', { type: 'rds' }), 1);
  assert.equal(count('trellis_control_plane_xds_nacks_total', {}), 1);
  assert.equal(count('trellis_control_plane_xds_snapshot_duration_seconds_count', { kind: 'sidecar' }), 1);
  assert.equal(count('trellis_control_plane_store_write_duration_seconds_bucket', { le: '0.005' }), 1);
  assert.equal(count('trellis_control_plane_store_write_duration_seconds_count'), 1);
});
