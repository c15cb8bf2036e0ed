// Route kinds on the transparent capture path (root only): a caller under iptables capture
// connects to a tcp Service by mesh name, and its TCPRoute splits the connections among
// weighted backends on other test hosts, as in explicit mode; an HTTPRoute applies to what is
// addressed to its Service, not to a connection to one of the Service's endpoints.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES } from './harness.js';
import { requireTestHosts, startCapturedWorkload, startTransparentMesh, sumCounter, TRANSPARENT_FIXTURES } from './transparent-harness.js';

const service = (name: string, port: number, appProtocol: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { selector: { app: name }, ports: [{ name: 'main', port, appProtocol }] },
});
const clients = path.join(TRANSPARENT_FIXTURES, 'clients.mjs');
const NO_PROXY_ENV = ['env', '-u', 'HTTP_PROXY', '-u', 'http_proxy', '-u', 'HTTPS_PROXY', '-u', 'https_proxy', '-u', 'NO_PROXY', '-u', 'no_proxy'];
const CONNECTIONS = 200;

test(`transparent mode: a TCPRoute splits a captured caller's connections 75/25 (${CONNECTIONS} connections)`, { timeout: 240_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  const mesh = await startTransparentMesh(t, 'r');
  // tcp-echo selects no workload: every connection that reaches a backend went by the TCPRoute.
  await applyResources(mesh.cp, [
    service('caller', 8080, 'http'),
    service('tcp-echo', 9000, 'tcp'),
    service('tcp-a', 9000, 'tcp'),
    service('tcp-b', 9000, 'tcp'),
    {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TCPRoute',
      metadata: { name: 'tcp-echo', namespace: 'default' },
      spec: {
        parentRefs: [{ kind: 'Service', name: 'tcp-echo', port: 9000 }],
        rules: [
          {
            backendRefs: [
              { name: 'tcp-a', port: 9000, weight: 75 },
              { name: 'tcp-b', port: 9000, weight: 25 },
            ],
          },
        ],
      },
    },
  ]);
  const echo = (name: string) =>
    startCapturedWorkload(t, mesh, { host: name.replace('-', ''), service: name, port: 9000, app: [process.execPath, path.join(FIXTURES, 'tcp-echo-app.mjs')] });
  const [caller] = await Promise.all([
    startCapturedWorkload(t, mesh, { host: 'caller', service: 'caller', port: 8080, app: ['python3', path.join(TRANSPARENT_FIXTURES, 'http-app.py')] }),
    echo('tcp-a'),
    echo('tcp-b'),
  ]);
  /** Greetings of `n` connections the caller application opens to tcp-echo.mesh:9000, by backend. */
  const greetings = async (n: number, timeoutMs = 90_000): Promise<Record<string, number>> =>
    JSON.parse(await mesh.lab.execAsync('caller', [...NO_PROXY_ENV, process.execPath, clients, 'greetings', 'tcp-echo.mesh', '9000', String(n)], timeoutMs)).counts;

  // Each probe gives up within seconds (a connection before the route arrived may go nowhere).
  await waitFor(
    async () => Object.keys(await greetings(1, 10_000).catch(() => ({}))).some((g) => g.startsWith('hello from tcp-')),
    'a first connection through the TCPRoute',
    45_000,
    250,
  );
  const counts = await greetings(CONNECTIONS);
  const a = counts['hello from tcp-a'] ?? 0;
  const b = counts['hello from tcp-b'] ?? 0;
  assert.equal(a + b, CONNECTIONS, `every connection reached a backend: ${JSON.stringify(counts)}`);
  // Binomial(200, 0.25): mean 50, standard deviation 6.1; ±30 is beyond 4.9 sigma (a chance
  // below 1e-6 of failing by luck), and it excludes an even split (100) and a single backend.
  assert.ok(Math.abs(b - 50) <= 30, `tcp-b got ${b} of ${CONNECTIONS}, expected 50 ± 30: ${JSON.stringify(counts)}`);
  // The caller's sidecar counted them per backend cluster, none for the parent Service's own.
  const out = caller.metrics();
  assert.ok(sumCounter(out, 'trellis_tcp_connections_total', { direction: 'outbound', service: 'tcp-b.default' }) >= b, out);
  assert.ok(sumCounter(out, 'trellis_tcp_connections_total', { direction: 'outbound', service: 'tcp-a.default' }) >= a, out);
  assert.equal(sumCounter(out, 'trellis_tcp_connections_total', { direction: 'outbound', service: 'tcp-echo.default' }), 0);
});

test('regression issue 12: transparent mode: an HTTPRoute routes what is addressed to the Service, not a connection to one of its endpoints', { timeout: 240_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  const mesh = await startTransparentMesh(t, 'e');
  await applyResources(mesh.cp, [
    service('caller', 8080, 'http'),
    service('web', 8080, 'http'),
    service('other', 8080, 'http'),
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web-to-other', namespace: 'default' },
      spec: { parentRefs: [{ kind: 'Service', name: 'web', port: 8080 }], rules: [{ backendRefs: [{ name: 'other', port: 8080 }] }] },
    },
  ]);
  const app = ['python3', path.join(TRANSPARENT_FIXTURES, 'http-app.py')];
  const [caller, web] = await Promise.all(['caller', 'web', 'other'].map((name) => startCapturedWorkload(t, mesh, { host: name, service: name, port: 8080, app })));
  const fetchFromCaller = async (url: string): Promise<{ status: number; body: { service: string } }> =>
    JSON.parse(await mesh.lab.execAsync('caller', [...NO_PROXY_ENV, process.execPath, clients, 'fetch', url], 20_000));

  // By the Service's name (its virtual IP): the HTTPRoute sends it to other.
  await waitFor(async () => (await fetchFromCaller('http://web.mesh:8080/').catch(() => undefined))?.body.service === 'other', 'web.mesh routed to other', 60_000, 250);
  // By the address of web's workload: that workload answers, whatever the Service's routes say.
  const direct = await fetchFromCaller(`http://${web!.host.address}:8080/direct`);
  assert.deepEqual([direct.status, direct.body.service], [200, 'web']);
  for (let i = 0; i < 5; i++) assert.equal((await fetchFromCaller('http://web.mesh:8080/')).body.service, 'other');
  // The caller's sidecar relayed the direct connection as web's (an opaque connection to that endpoint).
  const out = caller!.metrics();
  assert.ok(sumCounter(out, 'trellis_tcp_connections_total', { direction: 'outbound', service: 'web.default' }) >= 1, out);
});
