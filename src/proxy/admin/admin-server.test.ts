// The admin listener: readiness with a reason, config dump as JSON, Prometheus metrics.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { test, type TestContext } from 'node:test';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { seriesSum } from '../metrics/prom-text.js';
import { NO_GRPC_STATUS } from '../metrics/request-stats.js';
import { simpleConfig } from '../testing/config-builder.js';
import { request } from '../testing/test-servers.js';
import { createAdminServer, type AdminServerOptions, type Readiness } from './admin-server.js';

async function admin(t: TestContext, over: Partial<AdminServerOptions> = {}): Promise<number> {
  const server = createAdminServer({ ready: () => true, configDump: () => ({}), metrics: new ProxyMetrics(), ...over });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

test('/ready answers 200 when ready and 503 with the reason when not', { timeout: 5000 }, async (t) => {
  let state: Readiness = { ok: false, reason: 'waiting for the first config' };
  const port = await admin(t, { ready: () => state });
  const notReady = await request(port, { path: '/ready' });
  assert.equal(notReady.status, 503);
  assert.equal(notReady.body, 'not ready: waiting for the first config\n');
  state = { ok: true };
  assert.deepEqual(await request(port, { path: '/ready' }).then((r) => [r.status, r.body]), [200, 'ready\n']);
  state = false;
  assert.equal((await request(port, { path: '/ready' })).status, 503);
});

test('/config_dump serves JSON with maps and regexes readable', { timeout: 5000 }, async (t) => {
  const config = simpleConfig(15001, [8080]);
  const port = await admin(t, { configDump: () => ({ config, pattern: /a.b/ }) });
  const res = await request(port, { path: '/config_dump' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  const dump = JSON.parse(res.body) as { config: { listeners: Record<string, { port: number }>; clusters: Record<string, unknown> }; pattern: string };
  assert.equal(dump.config.listeners['out']?.port, 15001);
  assert.ok(dump.config.clusters['app']);
  assert.equal(dump.pattern, 'a.b');
});

test('/metrics serves the Prometheus text of the proxy metrics', { timeout: 5000 }, async (t) => {
  const metrics = new ProxyMetrics();
  metrics.requestStats('inbound', 'svc').record(200, NO_GRPC_STATUS, 0.002);
  const port = await admin(t, { metrics });
  const res = await request(port, { path: '/metrics' });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0.0.4/);
  assert.equal(seriesSum(res.body, 'trellis_requests_total', { direction: 'inbound', service: 'svc', code: '200' }), 1);
  assert.match(res.body, /# TYPE trellis_tcp_bytes_total counter/);
});

test('/stats is served when given, unknown paths are 404 and other methods 405', { timeout: 5000 }, async (t) => {
  const port = await admin(t, { stats: () => ({ endpoints: [] }) });
  assert.deepEqual(JSON.parse((await request(port, { path: '/stats' })).body), { endpoints: [] });
  const missing = await request(port, { path: '/nope' });
  assert.equal(missing.status, 404);
  assert.match(missing.body, /no admin endpoint \/nope/);
  assert.equal((await request(port, { path: '/ready', method: 'POST' })).status, 405);
});

test('POST /drain answers once the drain is done; without a drain, or with GET, it is refused', { timeout: 5000 }, async (t) => {
  let finish!: () => void;
  let calls = 0;
  const port = await admin(t, {
    drain: () => {
      calls++;
      return new Promise<void>((r) => (finish = r));
    },
  });
  let answered = false;
  const drained = request(port, { path: '/drain', method: 'POST' }).then((r) => ((answered = true), r));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(answered, false, 'answered before the drain was done');
  finish();
  assert.deepEqual(await drained.then((r) => [r.status, r.body]), [200, 'drained\n']);
  assert.equal(calls, 1);
  assert.equal((await request(port, { path: '/drain' })).status, 404);
  const none = await admin(t);
  assert.equal((await request(none, { path: '/drain', method: 'POST' })).status, 405);
});
