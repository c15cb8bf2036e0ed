// Deploys without failed requests (issue 12): a rolling restart under steady load with no retry
// policy fails nothing (the endpoint is withdrawn before its sidecar stops accepting, and joins
// only once its app is ready); an app that is ready late gets no traffic before; a sidecar that
// dies is started again while its app keeps running, or takes the app down with --exit-with-proxy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { exited } from '../../src/common/child-process.js';
import { httpOk, waitFor } from '../../src/common/wait.js';
import { applyResources, endpointState, FIXTURES, httpService, startControlPlane, startWorkload, tcpOpen, waitForEndpointReady, type Workload } from './harness.js';

/** Requests sent in a steady stream by a few loops; each failure is kept with the phase it started in. */
function steadyLoad(url: string, loops = 4, pauseMs = 5) {
  let phase = 'warm-up';
  let running = true;
  let total = 0;
  const failures: { phase: string; what: string }[] = [];
  const servedBy = new Map<string, number>();
  const flagged: string[] = [];
  const loop = async () => {
    while (running) {
      const at = phase;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await res.text();
        total++;
        if (res.status !== 200) failures.push({ phase: at, what: `${res.status} ${res.headers.get('x-trellis-error') ?? ''} ${body.slice(0, 200)}` });
        else {
          const by = res.headers.get('x-served-by') ?? '?';
          servedBy.set(by, (servedBy.get(by) ?? 0) + 1);
          if (res.headers.get('x-before-ready') === 'true') flagged.push(by);
        }
      } catch (e) {
        total++;
        failures.push({ phase: at, what: `${(e as Error).message} ${String((e as Error).cause ?? '')}` });
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: loops }, loop));
  return {
    setPhase: (p: string) => (phase = p),
    served: (by: string) => servedBy.get(by) ?? 0,
    async stop() {
      running = false;
      await done;
      return { total, failures, servedBy: Object.fromEntries(servedBy), flagged };
    },
  };
}

/** Failures counted by phase, for the assertion message. */
const byPhase = (failures: { phase: string; what: string }[]) => failures.reduce<Record<string, number>>((acc, f) => ((acc[f.phase] = (acc[f.phase] ?? 0) + 1), acc), {});

/** SIGTERM to `trellis run` itself (as a process manager stops one workload), then its exit, bounded. */
async function terminate(w: Workload, timeoutMs = 30_000): Promise<number> {
  const gone = exited(w.child);
  w.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    gone,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`trellis run did not exit within ${timeoutMs} ms; output: ${w.output()}`)), timeoutMs))),
  ]);
  clearTimeout(timer);
  return code;
}

/** The pid of the proxy `trellis run` started (its child running `trellis proxy`). */
function proxyPid(w: Workload): number {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(w.child.pid)], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => / proxy --service /.test(l));
  assert.ok(line, `no proxy among the children of trellis run (pid ${w.child.pid}): ${out}`);
  return Number(line.trim().split(/\s+/)[0]);
}

test('a rolling restart of 3 endpoints under steady load with no retry policy fails no request, neither at stopping nor at starting endpoints', { timeout: 240_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web'), httpService('client')]);
  const old = [];
  for (let i = 0; i < 3; i++) old.push(await startWorkload(t, cp, { service: 'web', version: `old${i}` }));
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['web:8080']}/`;
  await waitFor(async () => (await fetch(url)).status === 200, 'the client to reach web', 20_000);
  const load = steadyLoad(url);
  try {
    // Traffic reaches all three before the rollout starts.
    await waitFor(() => Promise.resolve([0, 1, 2].every((i) => load.served(`web-old${i}`) > 0)), 'traffic on every old endpoint', 20_000);
    for (let i = 0; i < 3; i++) {
      load.setPhase(`starting web-new${i}`);
      await startWorkload(t, cp, { service: 'web', version: `new${i}` });
      await waitFor(() => Promise.resolve(load.served(`web-new${i}`) > 0), `traffic on web-new${i}`, 20_000);
      load.setPhase(`stopping web-old${i}`);
      assert.equal(await terminate(old[i]!), 0, old[i]!.output());
    }
    load.setPhase('after the rollout');
    await waitFor(() => Promise.resolve(load.served(`web-new2`) > 50), 'traffic after the rollout', 20_000);
  } finally {
    const r = await load.stop();
    t.diagnostic(`rolling restart: ${r.total} requests, served by ${JSON.stringify(r.servedBy)}`);
    assert.ok(r.total > 500, `only ${r.total} requests: the load was not steady`);
    assert.deepEqual(byPhase(r.failures), {}, `failed requests by phase; first ones: ${JSON.stringify(r.failures.slice(0, 5))}`);
  }
});

test('an endpoint whose app is ready only after a delay gets no traffic before it is ready, then its share', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web'), httpService('client')]);
  const app = [process.execPath, path.join(FIXTURES, 'slow-ready-app.mjs')];
  await startWorkload(t, cp, { service: 'web', version: 'first', app, runArgs: ['--readiness-probe', 'http:/healthz'] });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['web:8080']}/`;
  await waitFor(async () => (await fetch(url)).status === 200, 'the client to reach web', 20_000);
  const load = steadyLoad(url);
  try {
    const late = await startWorkload(t, cp, {
      service: 'web',
      version: 'late',
      app,
      env: { READY_AFTER_MS: '8000' },
      runArgs: ['--readiness-probe', 'http:/healthz', '--readiness-period-ms', '500'],
      noWaitEndpoint: true,
    });
    // Listening, sidecar ready, app warming up: the endpoint stays out, saying why.
    await waitFor(
      async () => /GET http:\/\/127\.0\.0\.1:\d+\/healthz answered 503, expected 200-399/.test((await endpointState(late.adminUrl)).reason),
      'the check to see the app warming up',
      5_000,
    );
    assert.equal((await endpointState(late.adminUrl)).state, 'not-ready');
    await waitForEndpointReady(late.adminUrl, 30_000);
    await waitFor(() => Promise.resolve(load.served('web-late') > 20), 'traffic on the late endpoint once ready', 20_000);
  } finally {
    const r = await load.stop();
    t.diagnostic(`late readiness: ${r.total} requests, served by ${JSON.stringify(r.servedBy)}`);
    assert.deepEqual(r.flagged, [], 'requests reached the app before it was ready');
    assert.deepEqual(byPhase(r.failures), {}, JSON.stringify(r.failures.slice(0, 5)));
  }
});

test('the proxy of a running trellis run is killed: the app keeps running, the proxy comes back and requests through it succeed again', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web'), httpService('client')]);
  const web = await startWorkload(t, cp, { service: 'web' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['web:8080']}/`;
  await waitFor(async () => (await fetch(url)).status === 200, 'the client to reach web', 20_000);
  const firstProxy = proxyPid(web);
  process.kill(firstProxy, 'SIGKILL');
  await waitFor(() => tcpOpen(web.inboundPort).then((open) => !open), 'the killed proxy to stop listening', 10_000);
  // The app did not go with it, and trellis run did not exit.
  assert.equal(await tcpOpen(web.appPort), true, 'the app stopped with its proxy');
  assert.equal(web.child.exitCode, null, `trellis run exited: ${web.output()}`);
  await waitFor(() => httpOk(`${web.adminUrl}/ready`), 'the proxy to be started again', 30_000);
  assert.notEqual(proxyPid(web), firstProxy);
  await waitForEndpointReady(web.adminUrl, 30_000);
  await waitFor(async () => (await fetch(url)).status === 200, 'requests through the new proxy to succeed', 30_000);
  for (let i = 0; i < 20; i++) assert.equal((await fetch(url)).status, 200);
  assert.match(web.output(), /the proxy exited with code \d+; the application keeps running, starting the proxy again in \d+ ms/);
  // And it still stops cleanly, in order.
  assert.equal(await terminate(web), 0);
  await waitFor(async () => !(await tcpOpen(web.appPort)) && !(await tcpOpen(web.inboundPort)), 'app and proxy to be gone', 10_000);
});

test('with --exit-with-proxy, trellis run stops the app and exits when its proxy dies (the behaviour before restarts)', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web')]);
  const web = await startWorkload(t, cp, { service: 'web', runArgs: ['--exit-with-proxy'] });
  const gone = exited(web.child);
  process.kill(proxyPid(web), 'SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([gone, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`trellis run still runs: ${web.output()}`)), 30_000)))]);
  clearTimeout(timer);
  assert.equal(code, 1);
  assert.match(web.output(), /the proxy exited with code \d+; stopping the application \(--exit-with-proxy\)/);
  await waitFor(async () => !(await tcpOpen(web.appPort)), 'the app to be stopped', 10_000);
});
