// Killing the control plane leaves traffic flowing on the proxies' last good config, and a
// restarted control plane (same data dir) resyncs them: new config reaches them again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { freePorts } from '../../src/common/free-port.js';
import { api, applyResources, get, httpRoute, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';

test('traffic keeps flowing without the control plane, and a restarted one resyncs the proxies', { timeout: 90000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    httpService('echo'),
    httpService('echo-v1', { app: 'echo', version: 'v1' }),
    httpService('echo-v2', { app: 'echo', version: 'v2' }),
    httpService('client'),
    httpRoute('echo', 'echo', [{ name: 'echo-v1', weight: 1 }]),
  ]);
  await startWorkload(t, cp, { service: 'echo', version: 'v1' });
  await startWorkload(t, cp, { service: 'echo', version: 'v2' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitForStatus(url, 200);

  await cp.stop('SIGKILL');
  for (let i = 0; i < 50; i++) {
    const r = await get(url);
    assert.equal(r.status, 200, 'request failed while the control plane was down');
    assert.equal(r.body.version, 'v1');
  }
  const dump = await (await fetch(`${client.adminUrl}/config_dump`)).json();
  assert.ok(JSON.stringify(dump).includes('outbound|8080||echo-v1.default'), 'config_dump still shows the last good config');

  const cp2 = await cp.restart();
  // The stored route survived the restart (the store is durable) ...
  const stored = (await (await fetch(`${cp2.apiUrl}/api/v1/httproutes/default/echo`, { headers: { authorization: `Bearer ${cp2.token}` } })).json()) as any;
  assert.equal(stored.spec.rules[0].backendRefs[0].name, 'echo-v1');
  // ... and the proxies reconnect: a change made now reaches them.
  await applyResources(cp2, [httpRoute('echo', 'echo', [{ name: 'echo-v2', weight: 1 }])]);
  await waitFor(async () => (await get(url)).body.version === 'v2', 'the client proxy to route to v2 after the restart', 20000);
});

test('a restarted control plane remembers the registered workloads while their proxies reconnect', { timeout: 90000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('echo'), httpService('client')]);
  await startWorkload(t, cp, { service: 'echo' });
  await cp.stop('SIGKILL');

  // The restarted control plane listens for xDS on a new port: the running echo proxy cannot
  // reach it, so echo is known only from what the first run saved.
  const [xdsPort] = await freePorts(1);
  const cp2 = await startControlPlane(t, { dataDir: cp.dataDir, apiPort: Number(new URL(cp.apiUrl).port), xdsPort: xdsPort!, token: cp.token });
  const proxies = (await api(cp2, 'GET', '/api/v1/proxies')).body as { items: { service: string; connected: boolean }[] };
  assert.deepEqual(
    proxies.items.map((p) => [p.service, p.connected]),
    [['echo', false]],
  );

  // A proxy that joins now is given echo's endpoint and reaches it.
  const client = await startWorkload(t, cp2, { service: 'client', upstreams: ['echo:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitForStatus(url, 200);
  assert.equal((await get(url)).body.service, 'echo');
});
