// `trellis stat` agrees with the traffic a test sent: exact counts per edge, service and
// workload, success rate within rounding; `trellis check` fails below its success threshold and
// passes on a healthy mesh; `trellis tap` streams what goes through.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, get, httpService, permissive, runCli, startControlPlane, startWorkload } from './harness.js';

const CHAIN_APP = [process.execPath, path.join(FIXTURES, 'chain-app.mjs')];

test('trellis stat counts exactly what was sent, with the success rate; check passes; tap shows requests', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t, undefined, ['--collect-interval', '200']);
  const env = cp.cliEnv;
  // api is PERMISSIVE: the readiness probe below calls its inbound port from outside the mesh.
  await applyResources(cp, [permissive(httpService('api')), httpService('web')]);
  const api = await startWorkload(t, cp, { service: 'api', version: 'v2', app: CHAIN_APP });
  const web = await startWorkload(t, cp, { service: 'web', upstreams: ['api:8080'] });
  const url = (status: number) => `http://127.0.0.1:${web.upstreamPorts['api:8080']}/?status=${status}`;
  // Readiness is probed at api's own inbound port (caller "unknown"), so the web -> api edge sees only the test's traffic.
  let probes = 0;
  await waitFor(
    async () => {
      probes++;
      return (await get(`http://127.0.0.1:${api.inboundPort}/`)).status === 200;
    },
    'api answering',
    10_000,
  );
  // web's proxy is ready once its first complete config is in, which includes api's endpoint (api started first).

  let sent = 0;
  let failed = 0;
  for (let i = 0; i < 40; i++) {
    const status = i % 8 === 0 ? 500 : 200; // 5 of 40 fail
    const r = await get(url(status));
    assert.equal(r.status, status);
    sent++;
    if (status >= 500) failed++;
  }
  type Stat = { items: { source?: string; sourceWorkload?: string; destination?: string; service?: string; workload?: string; requests: number; successRate: number | null }[] };
  let edges: Stat['items'] = [];
  await waitFor(
    async () => {
      const r = await runCli(['stat', 'edges', '-o', 'json', '-w', '60s'], env);
      if (r.code !== 0) return false;
      edges = (JSON.parse(r.stdout) as Stat).items;
      return edges.find((e) => e.source === 'web.default' && e.destination === 'api.default')?.requests === sent;
    },
    `the web -> api edge to count ${sent}`,
    15_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; edges ${JSON.stringify(edges)}`);
  });
  const edge = edges.find((e) => e.source === 'web.default' && e.destination === 'api.default')!;
  assert.equal(edge.sourceWorkload, 'web-v1');
  assert.equal(edge.successRate!.toFixed(4), ((sent - failed) / sent).toFixed(4));

  const services = (JSON.parse((await runCli(['stat', '-o', 'json'], env)).stdout) as Stat).items;
  const svc = services.find((s) => s.service === 'api.default')!;
  assert.equal(svc.requests, sent + probes, `api.default served ${sent} + ${probes} probe(s)`);
  assert.equal(svc.successRate!.toFixed(4), ((sent + probes - failed) / (sent + probes)).toFixed(4));
  const workloads = (JSON.parse((await runCli(['stat', 'workloads', '-o', 'json'], env)).stdout) as Stat).items;
  assert.equal(workloads.find((w) => w.workload === 'api-v2')?.requests, sent + probes);

  const table = await runCli(['stat'], env);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^SERVICE\s+WORKLOADS\s+REQUESTS\s+SUCCESS\s+RPS\s+LATENCY_P50/);
  assert.match(table.stdout, new RegExp(`api\\.default\\s+1\\s+${sent + probes}\\s+${(((sent + probes - failed) / (sent + probes)) * 100).toFixed(2)}%`));

  const backend = await get(`${cp.apiUrl}/api/v1/telemetry/backends/api/api-v2?window=60s`, { headers: { authorization: `Bearer ${cp.token}` } });
  assert.equal(backend.body.requests, sent + probes);

  // 5 of the 45 requests api served failed (88.89 %): below check's default 95 %, above 80 %.
  const strict = await runCli(['check'], env);
  assert.equal(strict.code, 1, strict.stdout + strict.stderr);
  assert.match(
    strict.stdout,
    new RegExp(`\\[FAIL\\]\\s+services succeeding \\(at least 95%\\): api\\.default ${(((sent + probes - failed) / (sent + probes)) * 100).toFixed(2)}% `),
  );
  const check = await runCli(['check', '--min-success-rate', '80'], env);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /\[ok\]\s+control plane reachable/);
  assert.match(check.stdout, /\[ok\]\s+proxies connected: 2 connected/);
  assert.match(check.stdout, /\[ok\]\s+proxies in sync/);
  assert.match(check.stdout, /\[ok\]\s+certificates not near expiry: 2 of 2 connected proxies hold a workload certificate; the soonest expires at \S+ \(in 2\d\.\d h, /);

  // Tap: start watching, then send two requests; both show up, the filtered-out one does not.
  const { spawn } = await import('node:child_process');
  const { trellisArgv } = await import('../../src/common/self.js');
  const [node, bin] = trellisArgv();
  const tap = spawn(node, [bin, 'tap', 'api', '--status', '5xx', '--max', '2', '-o', 'json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup(t, () => {
    if (tap.exitCode === null) tap.kill('SIGKILL');
  });
  let out = '';
  tap.stdout.on('data', (c) => (out += c));
  const done = new Promise<number>((resolve) => tap.on('exit', (code) => resolve(code ?? 1)));
  // The stream is open once the relay reached the proxy; send until two 5xx were tapped (bounded).
  for (let i = 0; i < 50 && tap.exitCode === null; i++) {
    await get(url(200));
    await get(url(503));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await done, 0);
  const events = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status: number; service: string; direction: string });
  assert.equal(events.length, 2);
  assert.ok(events.every((e) => e.status === 503 && e.service === 'api.default' && e.direction === 'inbound'));
});
