// A real Prometheus (Debian's /usr/bin/prometheus) scrapes two sidecars; a PromQL query over
// its HTTP API counts a known burst exactly; promtool accepts the exposition.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { exited } from '../../src/common/child-process.js';
import { freePorts } from '../../src/common/free-port.js';
import { httpOk, waitFor } from '../../src/common/wait.js';
import { applyResources, get, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

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

  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-prom-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const [promPort] = await freePorts(1);
  const target = (u: string) => new URL(u).host;
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: trellis-sidecars',
      `    static_configs: [{ targets: ["${target(client.adminUrl)}", "${target(server.adminUrl)}"] }]`,
      '',
    ].join('\n'),
  );
  const prom = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let promLog = '';
  prom.stderr.on('data', (c) => (promLog = (promLog + c).slice(-5000)));
  const gone = exited(prom);
  cleanup(t, async () => {
    try {
      process.kill(-prom.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-prom.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    await gone;
    clearTimeout(timer);
  });
  const api = `http://127.0.0.1:${promPort}`;
  await waitFor(() => httpOk(`${api}/-/ready`), `Prometheus ready (log: ${promLog})`, 30_000).catch((e: Error) => {
    throw new Error(`${e.message}; prometheus log: ${promLog}`);
  });

  // What the server's sidecar counted for calls from the client's workload, as Prometheus sees it.
  const query = 'sum(trellis_requests_total{direction="inbound",service="server.default",source_workload="client-v1",code="200"})';
  const promValue = async (): Promise<number | undefined> => {
    const r = await get(`${api}/api/v1/query?query=${encodeURIComponent(query)}`);
    const v = r.body?.data?.result?.[0]?.value?.[1];
    return v === undefined ? undefined : Number(v);
  };
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
  await waitFor(
    async () => Number((await get(`${api}/api/v1/query?query=${encodeURIComponent(countQuery)}`)).body?.data?.result?.[0]?.value?.[1]) >= before + 37,
    'the histogram count',
    20_000,
  );
});
