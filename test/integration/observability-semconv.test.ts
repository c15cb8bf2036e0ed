// OpenTelemetry's HTTP conventions against a real Prometheus: requests of known methods,
// statuses and random paths through two sidecars; PromQL by method, status code, route and
// error type answers exactly what was sent, and no label carries a path.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';
import { startPrometheus } from './prometheus.js';

/** What the test sends (after the warm-up GETs): method, status, count. */
const SENT = [
  ['PUT', 201, 12],
  ['POST', 503, 5],
  ['PURGE', 404, 3],
] as const;

test('Prometheus answers by method, status code, route and error type exactly what was sent; random paths add no label values', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('server'), httpService('client')]);
  const server = await startWorkload(t, cp, { service: 'server', app: [process.execPath, path.join(FIXTURES, 'status-app.mjs')] });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['server:8080'] });
  const base = `http://127.0.0.1:${client.upstreamPorts['server:8080']}`;
  await waitForStatus(`${base}/warm-up`, 200);
  const prom = await startPrometheus(t, [{ name: 'trellis-sidecars', targets: [new URL(client.adminUrl).host, new URL(server.adminUrl).host] }]);

  for (const [method, status, n] of SENT) {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${base}/status/${status}/users/${Math.random().toString(36).slice(2)}?id=${i}`, { method, body: 'x'.repeat(i) });
      await res.arrayBuffer();
      assert.equal(res.status, status);
    }
  }

  const byMethodAndStatus = (side: 'server' | 'client') =>
    prom.query(
      `sum by (http_request_method, http_response_status_code, error_type, http_route, server_port) (http_${side}_request_duration_seconds_count{service="server.default",http_request_method!="GET"})`,
    );
  let rows: Awaited<ReturnType<typeof byMethodAndStatus>> = [];
  await waitFor(async () => (rows = await byMethodAndStatus('server')).reduce((n, r) => n + r.value, 0) === 5 + 12 + 3, 'Prometheus to see the 20 inbound requests', 30_000).catch(
    (e: Error) => {
      throw new Error(`${e.message}; last: ${JSON.stringify(rows)}`);
    },
  );
  const find = (method: string, status: number) => rows.find((r) => r.labels.http_request_method === method && r.labels.http_response_status_code === String(status));
  assert.equal(find('PUT', 201)?.value, 12);
  assert.equal(find('POST', 503)?.value, 5);
  assert.equal(find('_OTHER', 404)?.value, 3, 'PURGE is _OTHER');
  assert.equal(find('POST', 503)?.labels.error_type, '503', 'a 5xx is a server error');
  assert.equal(find('_OTHER', 404)?.labels.error_type, undefined, 'a 4xx is no server error');
  for (const r of rows) {
    assert.ok((r.labels.http_route ?? '') !== '' && !r.labels.http_route!.includes('/status/'), `route name, not a path: ${JSON.stringify(r.labels)}`);
    assert.equal(r.labels.server_port, String(server.appPort), 'the app port inbound');
  }

  await waitFor(async () => (rows = await byMethodAndStatus('client')).reduce((n, r) => n + r.value, 0) === 20, 'Prometheus to see the 20 outbound requests', 30_000);
  assert.equal(find('_OTHER', 404)?.labels.error_type, '404', 'a 4xx is a client error');
  assert.equal(find('POST', 503)?.value, 5);
  for (const r of rows) assert.equal(r.labels.server_port, '8080', "the Service's port outbound");

  // No label value anywhere carries the random paths.
  const all = await prom.query('{__name__=~"http_.*|trellis_.*", job="trellis-sidecars"}');
  for (const s of all) for (const v of Object.values(s.labels)) assert.ok(!v.includes('/users/'), `a label holds a path: ${JSON.stringify(s.labels)}`);
  const bodies = await prom.query('sum(http_server_request_body_size_bytes_sum{service="server.default",http_request_method="PUT"})');
  assert.equal(bodies[0]?.value, (12 * 11) / 2, 'request body bytes of the PUTs');
  const infos = await prom.query('target_info{service_name="server"}');
  assert.equal(infos.length, 1);
});
