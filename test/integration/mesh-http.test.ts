// A request crosses two sidecars; routing weights change within a second of an apply;
// invalid resources are refused with the field named and change nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, counter, get, httpRoute, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';

test('an HTTP request from one workload to another crosses both sidecars', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('server'), httpService('client')]);
  const server = await startWorkload(t, cp, { service: 'server' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['server:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['server:8080']}/hello?x=1`;
  await waitForStatus(url, 200);

  const before = {
    out: await counter(client.adminUrl, 'trellis_requests_total', { direction: 'outbound' }),
    in: await counter(server.adminUrl, 'trellis_requests_total', { direction: 'inbound' }),
  };
  for (let i = 0; i < 20; i++) {
    const r = await get(url, { method: 'POST', body: 'x'.repeat(1000), headers: { 'x-test': String(i) } });
    assert.equal(r.status, 200);
    assert.equal(r.body.service, 'server');
    assert.equal(r.body.path, '/hello?x=1');
    assert.equal(r.body.method, 'POST');
    assert.equal(r.body.headers['x-test'], String(i));
    assert.equal(r.body.bodyBytes, 1000);
  }
  assert.equal((await counter(client.adminUrl, 'trellis_requests_total', { direction: 'outbound' })) - before.out, 20, 'the client sidecar counted every request');
  assert.equal((await counter(server.adminUrl, 'trellis_requests_total', { direction: 'inbound' })) - before.in, 20, 'the server sidecar counted every request');
});

test('the HTTP proxy listener routes by mesh name', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('server'), httpService('client')]);
  await startWorkload(t, cp, { service: 'server' });
  const client = await startWorkload(t, cp, { service: 'client' });
  const { request } = await import('node:http');
  const viaProxy = (host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: client.httpProxyPort, path: `http://${host}/by-name`, headers: { host } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  await waitFor(async () => (await viaProxy('server:8080')).status === 200, 'server reachable by name', 10000);
  for (const host of ['server:8080', 'server.default:8080', 'server.default.svc.cluster.local:8080', 'server.mesh:8080']) {
    const r = await viaProxy(host);
    assert.equal(r.status, 200, `${host}: ${r.body}`);
    assert.equal(JSON.parse(r.body).path, '/by-name');
  }
  const unknown = await viaProxy('nothing-here:8080');
  assert.equal(unknown.status, 404);
});

test('a new HTTPRoute weight changes the split within a second', { timeout: 90000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    httpService('echo'),
    httpService('echo-v1', { app: 'echo', version: 'v1' }),
    httpService('echo-v2', { app: 'echo', version: 'v2' }),
    httpService('client'),
    httpRoute('echo-split', 'echo', [
      { name: 'echo-v1', weight: 100 },
      { name: 'echo-v2', weight: 0 },
    ]),
  ]);
  await startWorkload(t, cp, { service: 'echo', version: 'v1' });
  await startWorkload(t, cp, { service: 'echo', version: 'v2' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitForStatus(url, 200);
  for (let i = 0; i < 50; i++) assert.equal((await get(url)).body.version, 'v1', 'all traffic on v1 at 100/0');

  await applyResources(cp, [
    httpRoute('echo-split', 'echo', [
      { name: 'echo-v1', weight: 50 },
      { name: 'echo-v2', weight: 50 },
    ]),
  ]);
  const appliedAt = Date.now();
  // The first v2 answer must come within a second of the apply.
  let firstV2 = -1;
  while (Date.now() - appliedAt < 1000) {
    if ((await get(url)).body.version === 'v2') {
      firstV2 = Date.now() - appliedAt;
      break;
    }
  }
  assert.ok(firstV2 >= 0, 'no request reached v2 within 1 s of applying 50/50');
  const counts = { v1: 0, v2: 0 } as Record<string, number>;
  const n = 1000;
  for (let i = 0; i < n; i++) counts[(await get(url)).body.version]!++;
  // 50/50 over 1000 requests: the standard deviation is ~16, so ±100 is > 6 sigma.
  assert.ok(Math.abs(counts.v1! - 500) < 100, `split ${JSON.stringify(counts)} not within 500±100`);
});

test('an invalid resource is refused with the field named and nothing changes', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('echo')]);
  const auth = { authorization: `Bearer ${cp.token}` };
  const before = await (await fetch(`${cp.apiUrl}/api/v1/services`, { headers: auth })).json();
  const bad = httpRoute('bad', 'echo', [{ name: 'echo', weight: -1 }]);
  const res = await fetch(`${cp.apiUrl}/api/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ resources: [httpService('other'), bad] }),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.match(JSON.stringify(body), /spec\.rules\[0\]\.backendRefs\[0\]\.weight/);
  const after = await (await fetch(`${cp.apiUrl}/api/v1/services`, { headers: auth })).json();
  assert.deepEqual(after, before, 'the valid Service in the same batch was not stored');
  const routes = await (await fetch(`${cp.apiUrl}/api/v1/httproutes`, { headers: auth })).json();
  assert.equal(JSON.stringify(routes).includes('"bad"'), false);
});
