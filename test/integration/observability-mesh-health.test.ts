// The mesh's own health in a real Prometheus: it scrapes the control plane's /metrics (https,
// verified with the mesh CA, with an API token) and two sidecars' /metrics; PromQL sees the
// connected proxies, the API requests the test made, CA signings, the store revision, and on
// each sidecar the xDS stream, ACKs, config age, certificate expiry and process metrics.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { api, applyResources, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';
import { startPrometheus } from './prometheus.js';

test('Prometheus scrapes the control plane and the sidecars: proxies, API requests, signings, xDS state, certificate expiry, process health', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('server'), httpService('client')]);
  const server = await startWorkload(t, cp, { service: 'server' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['server:8080'] });
  await waitForStatus(`http://127.0.0.1:${client.upstreamPorts['server:8080']}/`, 200);

  // Without a token: refused, like every API route but /healthz.
  const status = await new Promise<number>((resolve, reject) =>
    https.get(`${cp.apiUrl}/metrics`, { ca: readFileSync(cp.caFile) }, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject),
  );
  assert.equal(status, 401, '/metrics takes a token');

  const prom = await startPrometheus(t, [
    { name: 'trellis-control-plane', targets: [new URL(cp.apiUrl).host], bearerToken: cp.token, caFile: cp.caFile },
    { name: 'trellis-sidecars', targets: [new URL(client.adminUrl).host, new URL(server.adminUrl).host] },
  ]);
  for (let i = 0; i < 4; i++) assert.equal((await api(cp, 'GET', '/api/v1/services')).status, 200);
  assert.equal((await api(cp, 'GET', '/api/v1/services/default/no-such-service')).status, 404);

  const one = async (q: string): Promise<number | undefined> => (await prom.query(q))[0]?.value;
  const eventually = async (q: string, ok: (v: number | undefined) => boolean) => {
    let last: number | undefined;
    await waitFor(async () => ok((last = await one(q))), `${q} (last: ${last})`, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}; last ${last}`);
    });
  };
  await eventually('up{job="trellis-control-plane"}', (v) => v === 1);
  await eventually('sum(trellis_control_plane_proxies{kind="sidecar",state="connected"})', (v) => v === 2);
  await eventually('sum(trellis_control_plane_proxies{state="out_of_sync"})', (v) => v === 0);
  await eventually('sum(trellis_control_plane_api_requests_total{route="collection:services",method="GET",code="200"})', (v) => v !== undefined && v >= 4);
  await eventually('sum(trellis_control_plane_api_requests_total{route="item:services",code="404"})', (v) => v === 1);
  await eventually('trellis_control_plane_ca_certificates_signed_total', (v) => v !== undefined && v >= 2);
  await eventually('trellis_control_plane_store_revision', (v) => v !== undefined && v >= 1); // one apply, one revision

  await eventually('sum(trellis_xds_connected{job="trellis-sidecars"})', (v) => v === 2);
  await eventually('count(trellis_xds_responses_total{result="ack",type="Listener"} > 0)', (v) => v === 2);
  await eventually('sum(trellis_xds_responses_total{result="nack"})', (v) => v === 0);
  await eventually('max(trellis_config_age_seconds)', (v) => v !== undefined && v >= 0 && v < 600);
  await eventually('min(trellis_workload_certificate_expiry_seconds)', (v) => v !== undefined && v > 60);
  await eventually('min(process_resident_memory_bytes{job="trellis-sidecars"})', (v) => v !== undefined && v > 10e6);
  await eventually('min(process_open_fds{job="trellis-sidecars"})', (v) => v !== undefined && v > 3);
  await eventually('count(nodejs_eventloop_lag_p99_seconds{job="trellis-sidecars"})', (v) => v === 2);
});
