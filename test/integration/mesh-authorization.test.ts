// AuthorizationPolicies with real sidecars: ALLOW and DENY by caller identity and by path and
// method, DENY winning over ALLOW, what an ALLOW policy leaves out being denied, the mesh-wide
// default deny, TCP connections closed, and every decision counted.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { api, applyResources, counter, FIXTURES, get, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';

const policy = (name: string, action: 'ALLOW' | 'DENY', rules: unknown[], target?: string) => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'default' },
  spec: { ...(target ? { targetRef: { kind: 'Service', name: target } } : {}), action, rules },
});

async function status(url: string, init: RequestInit = {}): Promise<{ status: number; error: string | null; body: string }> {
  const r = await get(url, init);
  return { status: r.status, error: r.headers.get('x-trellis-error'), body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
}

test('ALLOW and DENY by identity, path and method; DENY wins; what ALLOW leaves out and the mesh default deny refuse with 403', { timeout: 120000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web'), httpService('client'), httpService('other')]);
  const web = await startWorkload(t, cp, { service: 'web' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const other = await startWorkload(t, cp, { service: 'other', upstreams: ['web:8080'] });
  const fromClient = `http://127.0.0.1:${client.upstreamPorts['web:8080']}`;
  const fromOther = `http://127.0.0.1:${other.upstreamPorts['web:8080']}`;
  await waitForStatus(`${fromClient}/`, 200);
  await waitForStatus(`${fromOther}/`, 200);

  // Only client may call web; other may only GET /public.
  await applyResources(cp, [
    policy('allow-client', 'ALLOW', [{ from: [{ serviceAccounts: ['client'] }] }], 'web'),
    policy('public-get', 'ALLOW', [{ from: [{ namespaces: ['default'] }], to: [{ methods: ['GET'], paths: [{ exact: '/public' }] }] }], 'web'),
  ]);
  await waitForStatus(`${fromOther}/`, 403);
  const denied = await status(`${fromOther}/`);
  assert.equal(denied.error, 'FORBIDDEN');
  assert.match(denied.body, /forbidden: denied: no ALLOW policy matches/);
  assert.equal((await status(`${fromClient}/anything`)).status, 200);
  assert.equal((await status(`${fromOther}/public`)).status, 200, 'GET /public is allowed for any caller in default');
  assert.equal((await status(`${fromOther}/public`, { method: 'POST', body: 'x' })).status, 403, 'POST /public is not');
  assert.equal((await status(`${fromOther}/public/x`)).status, 403, 'an exact path is exact');

  // DENY wins over the ALLOW that lets client in.
  await applyResources(cp, [policy('no-admin', 'DENY', [{ to: [{ paths: [{ prefix: '/admin' }] }] }], 'web')]);
  await waitForStatus(`${fromClient}/admin/users`, 403);
  assert.match((await status(`${fromClient}/admin/users`)).body, /denied by policy default\/no-admin\/rules\[0\]/);
  assert.equal((await status(`${fromClient}/ok`)).status, 200);

  // DENY by identity, with a header condition.
  await applyResources(cp, [
    policy('no-debug-from-client', 'DENY', [{ from: [{ serviceAccounts: ['default/client'] }], to: [{ headers: [{ name: 'x-debug', present: true }] }] }], 'web'),
  ]);
  await waitFor(async () => (await status(`${fromClient}/ok`, { headers: { 'x-debug': '1' } })).status === 403, 'the header DENY to apply', 10000);
  assert.equal((await status(`${fromClient}/ok`)).status, 200);

  // Mesh-wide default deny: once the ALLOW policies go, nothing is allowed.
  await applyResources(cp, [{ apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { authorization: { defaultAction: 'DENY' } } }]);
  for (const name of ['allow-client', 'public-get']) assert.equal((await api(cp, 'DELETE', `/api/v1/authorizationpolicies/default/${name}`)).status, 200);
  // Two deletes, two pushes: between them the remaining ALLOW policy answers "no ALLOW policy matches".
  await waitFor(async () => /default deny/.test((await status(`${fromClient}/ok`)).body), 'the mesh default deny to apply once both ALLOW policies are gone', 10000);
  assert.equal((await status(`${fromClient}/ok`)).status, 403);
  // The callers themselves are services too: with default deny, nothing reaches them either, but web's answers were counted.
  assert.ok((await counter(web.adminUrl, 'trellis_authz_decisions_total', { decision: 'deny' })) >= 5);
  assert.ok((await counter(web.adminUrl, 'trellis_authz_decisions_total', { decision: 'allow', policy: 'default/allow-client/rules[0]' })) >= 2);
});

test('a denied TCP connection is closed; an allowed one relays', { timeout: 90000 }, async (t) => {
  const cp = await startControlPlane(t);
  const tcpService = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: name }, ports: [{ name: 'tcp', port: 9000, appProtocol: 'tcp' }] },
  });
  await applyResources(cp, [tcpService('tcp-echo'), httpService('caller')]);
  const server = await startWorkload(t, cp, { service: 'tcp-echo', app: [process.execPath, path.join(FIXTURES, 'tcp-echo-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['tcp-echo:9000'] });
  const port = caller.upstreamPorts['tcp-echo:9000']!;
  const echo = () =>
    new Promise<string>((resolve) => {
      let got = '';
      const s = net.connect(port, '127.0.0.1', () => s.write('ping'));
      s.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.length >= 4) s.end();
      });
      s.on('error', () => resolve(got));
      s.on('close', () => resolve(got));
      setTimeout(() => {
        s.destroy();
        resolve(got);
      }, 3000).unref();
    });
  await waitFor(async () => (await echo()).includes('ping'), 'TCP through the mesh', 15000);
  await applyResources(cp, [policy('no-caller', 'DENY', [{ from: [{ serviceAccounts: ['caller'] }] }], 'tcp-echo')]);
  await waitFor(async () => (await echo()) === '', 'the DENY to close TCP connections', 10000);
  assert.ok((await counter(server.adminUrl, 'trellis_authz_decisions_total', { decision: 'deny', policy: 'default/no-caller/rules[0]' })) >= 1);
  // An ALLOW rule over HTTP paths cannot match a TCP connection (fails closed).
  await applyResources(cp, [
    policy('no-caller', 'DENY', [{ from: [{ serviceAccounts: ['someone-else'] }] }], 'tcp-echo'),
    policy('paths-only', 'ALLOW', [{ to: [{ paths: [{ prefix: '/' }] }] }], 'tcp-echo'),
  ]);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await echo(), '');
  await applyResources(cp, [policy('paths-only', 'ALLOW', [{ from: [{ serviceAccounts: ['caller'] }] }], 'tcp-echo')]);
  await waitFor(async () => (await echo()).includes('ping'), 'the identity ALLOW to let TCP through', 10000);
});
