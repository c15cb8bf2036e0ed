// A real Prometheus (Debian's /usr/bin/prometheus) scrapes two sidecars; a PromQL query over
// its HTTP API counts a known burst exactly; promtool accepts the exposition.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, get, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';
import { PROMTOOL, startPrometheus } from './prometheus.js';

test('Prometheus scraping the sidecars counts a burst of 37 requests exactly; promtool accepts /metrics', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('server'), httpService('client')]);
  const server = await startWorkload(t, cp, { service: 'server' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['server:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['server:8080']}/burst`;
  await waitForStatus(url, 200);

  for (const admin of [client.adminUrl, server.adminUrl]) {
    const text = await (await fetch(`${admin}/metrics`)).text();
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check metrics on ${admin}: ${check.stdout}${check.stderr}`);
    assert.match(text, /# TYPE http_server_request_duration_seconds histogram/);
  }

  const target = (u: string) => new URL(u).host;
  const prom = await startPrometheus(t, [{ name: 'trellis-sidecars', targets: [target(client.adminUrl), target(server.adminUrl)] }]);

  // What the server's sidecar counted for calls from the client's workload, as Prometheus sees it.
  const query = 'sum(trellis_requests_total{direction="inbound",service="server.default",source_workload="client-v1",code="200"})';
  const promValue = async (): Promise<number | undefined> => (await prom.query(query))[0]?.value;
  const proxyValue = async (): Promise<number> => {
    const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('trellis_requests_total{') && l.includes('direction="inbound"') && l.includes('source_workload="client-v1"') && l.includes('code="200"'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };
  // Before the burst: Prometheus has scraped the current value.
  let before = 0;
  await waitFor(
    async () => {
      before = await proxyValue();
      return (await promValue()) === before;
    },
    'Prometheus to scrape the value before the burst',
    20_000,
  );

  for (let i = 0; i < 37; i++) assert.equal((await get(url)).status, 200);
  await waitFor(async () => (await proxyValue()) === before + 37, 'the sidecar to count the burst', 5000);
  let seen: number | undefined;
  await waitFor(async () => (seen = await promValue()) === before + 37, `PromQL to return ${before + 37}`, 20_000).catch((e: Error) => {
    throw new Error(`${e.message}; last value ${seen}`);
  });
  assert.equal(seen! - before, 37);

  // The histogram's count agrees with the counter (same requests, OpenTelemetry's name).
  const countQuery = 'sum(http_server_request_duration_seconds_count{service="server.default",source_workload="client-v1"})';
  await waitFor(async () => ((await prom.query(countQuery))[0]?.value ?? NaN) >= before + 37, 'the histogram count', 20_000);
});
