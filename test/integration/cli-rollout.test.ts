// Release workflows through the CLI against real sidecars: a canary that promotes a healthy
// backend (and resumes after the CLI and the control plane restarted), a canary that rolls
// back a failing one and says why, and a blue/green switch and back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cleanup } from './cleanup.js';
import { trellisArgv } from '../../src/common/self.js';
import { waitFor } from '../../src/common/wait.js';
import { api, applyResources, FIXTURES, get, httpRoute, httpService, runCli, startControlPlane, startWorkload, type ControlPlane } from './harness.js';

async function mesh(t: TestContext, v2: { app?: string[]; env?: Record<string, string> } = {}) {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    httpService('echo'),
    httpService('echo-v1', { app: 'echo', version: 'v1' }),
    httpService('echo-v2', { app: 'echo', version: 'v2' }),
    httpService('client'),
    httpRoute('echo', 'echo', [{ name: 'echo-v1', weight: 100 }]),
  ]);
  await startWorkload(t, cp, { service: 'echo', version: 'v1' });
  await startWorkload(t, cp, { service: 'echo', version: 'v2', ...v2 });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitFor(async () => (await get(url)).body?.version === 'v1', 'echo reachable', 15_000);
  return { cp, url };
}

/** Sends requests one after another until stopped (at most 20,000 or 120 s), like steady callers. */
function load(url: string): { stop: () => Promise<number> } {
  let running = true;
  let sent = 0;
  const started = Date.now();
  const loop = (async () => {
    while (running && sent < 20_000 && Date.now() - started < 120_000) {
      sent++;
      await get(url).catch(() => undefined);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return sent;
    },
  };
}

async function routeOf(cp: ControlPlane): Promise<{ weights: Record<string, number>; state: Record<string, unknown> | undefined }> {
  const r = (await (await fetch(`${cp.apiUrl}/api/v1/httproutes/default/echo`, { headers: { authorization: `Bearer ${cp.token}` } })).json()) as {
    spec: { rules: { backendRefs: { name: string; weight: number }[] }[] };
    metadata: { annotations?: Record<string, string> };
  };
  const weights = Object.fromEntries(r.spec.rules[0]!.backendRefs.map((b) => [b.name, b.weight]));
  const raw = r.metadata.annotations?.['trellis.dev/rollout'];
  return { weights, state: raw ? JSON.parse(raw) : undefined };
}

test('a canary promotes a healthy backend step by step, and resumes after the CLI and the control plane restart', { timeout: 180_000 }, async (t) => {
  const { cp, url } = await mesh(t);
  const traffic = load(url);
  cleanup(t, () => traffic.stop());
  const common = ['canary', 'echo', '--to', 'echo-v2', '--steps', '20,50,100', '--min-requests', '5', '--max-p99', '2s', '--control-plane', cp.apiUrl];

  // First run: a long interval, stopped once the first step is in place.
  const [node, bin] = trellisArgv();
  const first = spawn(node, [bin, ...common, '--interval', '10m'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...cp.cliEnv } });
  let firstOut = '';
  first.stdout.on('data', (c) => (firstOut += c));
  cleanup(t, () => {
    if (first.exitCode === null) first.kill('SIGKILL');
  });
  await waitFor(async () => firstOut.includes('step 1/3: 20%'), 'the first step', 20_000);
  first.kill('SIGTERM');
  assert.deepEqual((await routeOf(cp)).weights, { 'echo-v1': 80, 'echo-v2': 20 });
  await waitFor(async () => (await get(url)).body?.version === 'v2', 'v2 gets some traffic', 10_000);

  await cp.stop();
  const cp2 = await cp.restart();
  assert.equal((await routeOf(cp2)).state?.phase, 'Progressing', 'the state survived the control-plane restart');
  // The canary judges v2 by the control plane's telemetry, which has nothing from a sidecar
  // until it reconnected (with backoff, up to seconds after the restart): resume once all three
  // sidecars are back, as an operator would after `trellis check` passes.
  await waitFor(
    async () => {
      const r = await api(cp2, 'GET', '/api/v1/proxies');
      const items = (r.body?.items ?? []) as { connected: boolean }[];
      return items.length === 3 && items.every((p) => p.connected);
    },
    'the three sidecars to reconnect to the restarted control plane',
    30_000,
  );

  const second = await runCli([...common.slice(0, -1), cp2.apiUrl, '--interval', '2s'], cp2.cliEnv, undefined, 90_000);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /resuming the canary of echo: echo-v1 -> echo-v2 at 20% \(step 1 of 3\)/);
  assert.match(second.stdout, /echo-v2: \d+ requests in 2s, success 100\.00%/);
  assert.match(second.stdout, /step 3\/3: 100% of echo to echo-v2/);
  assert.match(second.stdout, /promoted: echo-v2 has all traffic of echo/);
  const after = await routeOf(cp2);
  assert.deepEqual(after.weights, { 'echo-v1': 0, 'echo-v2': 100 });
  assert.equal(after.state?.phase, 'Promoted');
  await waitFor(async () => (await get(url)).body?.version === 'v2', 'v2 serves', 10_000);
  for (let i = 0; i < 20; i++) assert.equal((await get(url)).body?.version, 'v2');
});

test('a canary rolls back a failing backend and says why; blue/green switches at once and back', { timeout: 180_000 }, async (t) => {
  const { cp, url } = await mesh(t, { app: [process.execPath, path.join(FIXTURES, 'faulty-app.mjs')], env: { FAIL_RATE: '0.5' } });
  const traffic = load(url);
  cleanup(t, () => traffic.stop());
  const r = await runCli(
    ['canary', 'echo', '--to', 'echo-v2', '--steps', '25,100', '--interval', '3s', '--min-requests', '5', '--control-plane', cp.apiUrl],
    cp.cliEnv,
    undefined,
    90_000,
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /step 1\/2: 25% of echo to echo-v2/);
  assert.match(r.stdout, /rolled back: all traffic of echo to echo-v1\. Reason: success rate of echo-v2 was \d+\.\d+% over \d+ requests, below --min-success 99\.00%/);
  const after = await routeOf(cp);
  assert.deepEqual(after.weights, { 'echo-v1': 100, 'echo-v2': 0 });
  assert.equal(after.state?.phase, 'RolledBack');
  await traffic.stop();

  const on = await runCli(['bluegreen', 'echo', '--to', 'echo-v2', '--control-plane', cp.apiUrl], cp.cliEnv);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /switched: all traffic of echo to echo-v2 \(was echo-v1\)/);
  assert.deepEqual((await routeOf(cp)).weights, { 'echo-v1': 0, 'echo-v2': 100 });
  await waitFor(async () => (await get(url)).body?.version === 'v2', 'all traffic on v2', 10_000);
  const back = await runCli(['bluegreen', 'echo', '--back', '--control-plane', cp.apiUrl], cp.cliEnv);
  assert.equal(back.code, 0, back.stderr);
  assert.deepEqual((await routeOf(cp)).weights, { 'echo-v1': 100, 'echo-v2': 0 });
  await waitFor(async () => (await get(url)).body?.version === 'v1', 'all traffic back on v1', 10_000);
});

test(
  'regression issue 12: a control plane restarted during a canary: the intervals it did not see are not judged, and the canary promotes on complete data',
  { timeout: 240_000 },
  async (t) => {
    const { cp, url } = await mesh(t);
    const traffic = load(url);
    cleanup(t, () => traffic.stop());
    const [node, bin] = trellisArgv();
    const args = ['canary', 'echo', '--to', 'echo-v2', '--steps', '50,100', '--interval', '6s', '--min-requests', '5', '--max-p99', '2s', '--data-wait', '3m'];
    const canary = spawn(node, [bin, ...args, '--control-plane', cp.apiUrl], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...cp.cliEnv } });
    let out = '';
    canary.stdout.on('data', (c) => (out += c));
    canary.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => canary.on('exit', (code) => resolve(code)));
    cleanup(t, () => {
      if (canary.exitCode === null) canary.kill('SIGKILL');
    });
    await waitFor(async () => out.includes('step 1/2: 50%'), 'the first step', 30_000);

    // The control plane goes away for longer than an interval, then comes back on the same data and ports.
    await cp.stop();
    await waitFor(async () => /not judged: the telemetry API did not answer/.test(out), 'an interval that ended without a control plane, not judged', 30_000);
    const cp2 = await cp.restart();

    assert.equal(await exited, 0, out);
    // The first interval the restarted control plane answered for began before it (and before the sidecars reconnected).
    assert.match(out, /not judged: the telemetry covers \d+\.\d s of the last \d+ s/, out);
    assert.doesNotMatch(out, /rolled back/, out);
    // Judged once, on a whole interval, after the last interval without data; then promoted.
    const judged = out.lastIndexOf('echo-v2: ');
    assert.ok(judged > out.lastIndexOf('not judged'), out);
    assert.match(out.slice(judged), /^echo-v2: \d+ requests in 6s, success 100\.00%/, out);
    assert.match(out, /promoted: echo-v2 has all traffic of echo/);
    const after = await routeOf(cp2);
    assert.deepEqual(after.weights, { 'echo-v1': 0, 'echo-v2': 100 });
    assert.equal(after.state?.phase, 'Promoted');
  },
);
