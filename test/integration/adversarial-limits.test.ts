// Issue 10, items 7 and 11, from the operator's and the attacker's side: one apply must not cut
// proxies off their config; a proxy that cannot receive its config says why; tap subscribers
// that never read cannot grow a proxy's memory; a __proto__ label key is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cleanup } from './cleanup.js';
import { waitFor } from '../../src/common/wait.js';
import { api, applyResources, counter, get, httpService, permissive, runCli, startControlPlane, startWorkload, type ControlPlane } from './harness.js';

interface Proxy {
  id: string;
  service: string;
  connected: boolean;
  versions: Record<string, string>;
  current?: Record<string, string>;
  undelivered?: { typeUrl: string; bytes: number; limitBytes: number; message: string }[];
}

async function proxies(cp: ControlPlane): Promise<Proxy[]> {
  const r = await api(cp, 'GET', '/api/v1/proxies');
  assert.equal(r.status, 200);
  return r.body.items as Proxy[];
}

const TYPES = ['listeners', 'routes', 'clusters', 'endpoints'] as const;
const inSync = (p: Proxy) => p.connected && p.current !== undefined && TYPES.every((k) => p.versions[k] === p.current![k]);

function serviceWithPorts(name: string, count: number) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: name }, ports: Array.from({ length: count }, (_, i) => ({ name: `p${i}`, port: 10_000 + i })) },
  };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-limits-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test(
  'a Service with 10,000 ports is refused with the reason; both sidecars stay in sync and still get later changes; a __proto__ label is a 400',
  { timeout: 180_000 },
  async (t) => {
    const cp = await startControlPlane(t);
    await applyResources(cp, [permissive(httpService('api')), httpService('web')]);
    await startWorkload(t, cp, { service: 'api' });
    const web = await startWorkload(t, cp, { service: 'web', upstreams: ['api:8080'] });
    await waitFor(async () => (await proxies(cp)).filter(inSync).length === 2, 'both sidecars in sync', 30_000);

    const dir = tempDir(t);
    const file = path.join(dir, 'big.json');
    writeFileSync(file, JSON.stringify(serviceWithPorts('big', 10_000)));
    const cli = await runCli(['apply', '-f', file], cp.cliEnv, undefined, 60_000);
    assert.notEqual(cli.code, 0, `apply of 10,000 ports was accepted: ${cli.stdout}`);
    assert.match(cli.stderr, /big\.json: document 1 \(Service default\/big\), line \d+: spec\.ports: must have at most 100 ports, got 10000/);
    // The API refuses it too (a client that skips the CLI's own validation).
    const direct = await api(cp, 'POST', '/api/v1/apply', { resources: [serviceWithPorts('big', 10_000)] });
    assert.equal(direct.status, 400);
    assert.equal(direct.body.error.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      direct.body.error.problems.map((p: { path: string }) => p.path),
      ['spec.ports'],
    );

    // Later changes still reach both sidecars.
    const before = await proxies(cp);
    await applyResources(cp, [httpService('extra')]);
    await waitFor(
      async () => {
        const now = await proxies(cp);
        return now.length === 2 && now.every((p) => inSync(p) && p.versions.clusters !== before.find((b) => b.id === p.id)!.versions.clusters);
      },
      'both sidecars to accept the clusters with Service extra',
      30_000,
    );
    const dump = await get(`${web.adminUrl}/config_dump`);
    assert.match(JSON.stringify(dump.body), /outbound\|8080\|\|extra\.default/);

    // A __proto__ label key: refused with its path, not silently dropped.
    const body = `{"resources":[${JSON.stringify(httpService('labelled')).replace('"namespace":"default"}', '"namespace":"default","labels":{"__proto__":"x"}}')}]}`;
    assert.match(body, /"labels":\{"__proto__":"x"\}/);
    const res = await fetch(`${cp.apiUrl}/api/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.token}` },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await res.json()) as { error: { problems: { path: string; message: string }[] } };
    assert.equal(res.status, 400);
    assert.deepEqual(
      answer.error.problems.map((p) => p.path),
      ['resources[0].metadata.labels.__proto__'],
    );
    const yaml = path.join(dir, 'proto.yaml');
    writeFileSync(yaml, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: labelled\n  labels:\n    __proto__: x\nspec:\n  selector: {app: labelled}\n  ports: [{port: 8080}]\n');
    const protoCli = await runCli(['apply', '-f', yaml], cp.cliEnv);
    assert.notEqual(protoCli.code, 0);
    assert.match(protoCli.stderr, /proto\.yaml: document 1 \(Service default\/labelled\), line 6: metadata\.labels\.__proto__: key "__proto__" is not allowed/);
    assert.equal((await api(cp, 'GET', '/api/v1/services/default/labelled')).status, 404);
  },
);

test('a proxy whose config is over the xDS message limit: get proxies and check name the proxy, the type, its size and the limit', { timeout: 180_000 }, async (t) => {
  // Lowered so that valid Services (each far under the per-resource limits) add up to more than one message.
  const limit = 65_536;
  const cp = await startControlPlane(t, undefined, ['--xds-max-message-bytes', String(limit)]);
  await applyResources(cp, [httpService('web')]);
  await startWorkload(t, cp, { service: 'web' });
  await waitFor(async () => (await proxies(cp)).some(inSync), 'the sidecar in sync', 30_000);
  const big = Array.from({ length: 4 }, (_, i) => serviceWithPorts(`big${i}`, 100));
  await applyResources(cp, big);

  let proxy: Proxy | undefined;
  await waitFor(
    async () => {
      proxy = (await proxies(cp)).find((p) => (p.undelivered ?? []).length > 0);
      return proxy !== undefined;
    },
    'the proxy status to record the undelivered clusters',
    30_000,
  );
  const u = proxy!.undelivered![0]!;
  assert.equal(u.typeUrl, 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
  assert.equal(u.limitBytes, limit);
  assert.ok(u.bytes > limit);
  assert.equal(proxy!.connected, true, 'the proxy keeps its stream');

  const getProxies = await runCli(['get', 'proxies'], cp.cliEnv);
  assert.equal(getProxies.code, 0, getProxies.stderr);
  assert.match(getProxies.stdout, /Not delivered \(config too large to send\):/);
  assert.ok(getProxies.stdout.includes(`${proxy!.id}: clusters version `), getProxies.stdout);
  assert.match(getProxies.stdout, new RegExp(`is ${u.bytes} bytes encoded, over the xDS message limit of ${limit} bytes`));

  const check = await runCli(['check'], cp.cliEnv);
  assert.equal(check.code, 1, check.stdout);
  const line = check.stdout.split('\n').find((l) => l.includes('proxies in sync')) ?? '';
  assert.match(line, /FAIL/);
  assert.ok(line.includes(`${proxy!.id} cannot receive its config: clusters version `), line);
  assert.ok(line.includes(`over the xDS message limit of ${limit} bytes`), line);

  // Removing what made it too large delivers the config again and clears the record.
  for (const s of big) assert.equal((await api(cp, 'DELETE', `/api/v1/services/default/${s.metadata.name}`)).status, 200);
  await waitFor(async () => (await proxies(cp)).every((p) => inSync(p) && (p.undelivered ?? []).length === 0), 'the sidecar back in sync', 30_000);
});

/** The pid of the proxy process under a `trellis run` process (its child whose argv says `proxy`). */
function proxyPid(runPid: number): number {
  const queue = [runPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let children: string;
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean).map(Number)) {
      const argv = readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0');
      if (argv.includes('proxy')) return c;
      queue.push(c);
    }
  }
  throw new Error(`no proxy process under ${runPid}`);
}

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

test("20 tap subscribers that never read while traffic flows: the proxy's memory stays bounded and drops are counted", { timeout: 240_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [permissive(httpService('api')), httpService('web')]);
  await startWorkload(t, cp, { service: 'api' });
  const web = await startWorkload(t, cp, { service: 'web', upstreams: ['api:8080'] });
  const target = `http://127.0.0.1:${web.upstreamPorts['api:8080']}`;
  await waitFor(async () => (await get(`${target}/`)).status === 200, 'web -> api answering', 30_000);
  const pid = proxyPid(web.child.pid!);
  const baseline = rssMb(pid);

  // Subscribers that send their request and never read a byte.
  const admin = new URL(web.adminUrl);
  const subscribers: net.Socket[] = [];
  cleanup(t, () => subscribers.forEach((s) => s.destroy()));
  for (let i = 0; i < 20; i++) {
    const s = net.connect(Number(admin.port), admin.hostname);
    s.pause();
    s.on('error', () => {});
    s.write('GET /tap HTTP/1.1\r\nhost: admin\r\n\r\n');
    subscribers.push(s);
  }

  // Long paths make large events: each request offers ~20 x 4 KB to the subscribers.
  const longPath = `/${'x'.repeat(4000)}`;
  const deadline = Date.now() + 120_000;
  let sent = 0;
  let peak = baseline;
  const worker = async () => {
    while (sent < 4000 && Date.now() < deadline) {
      sent++;
      const r = await fetch(`${target}${longPath}?n=${sent}`, { signal: AbortSignal.timeout(10_000) });
      await r.arrayBuffer();
    }
  };
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      /* exited */
    }
  }, 200);
  try {
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rssMb(pid));
  const dropped = await counter(web.adminUrl, 'trellis_telemetry_events_total', { event: 'tap_dropped' });
  t.diagnostic(`${sent} requests; proxy RSS ${baseline.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB; ${dropped} tap events dropped`);
  assert.ok(sent >= 1000, `enough traffic flowed (${sent} requests)`);
  assert.ok(dropped > 0, 'tap events were dropped for the subscribers that do not read');
  // 20 subscribers x 256 KiB may wait in memory; the old code buffered everything offered (hundreds of MB).
  assert.ok(peak - baseline < 100, `proxy RSS grew by ${(peak - baseline).toFixed(0)} MB (from ${baseline.toFixed(0)} to ${peak.toFixed(0)} MB)`);
});
