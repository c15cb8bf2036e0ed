// Identity bound to credentials, from the attacker's side: a join token for one service cannot
// make its proxy another Service's endpoint by claiming that Service's labels, and cannot take
// another proxy's xDS node id (which would end the real proxy's stream).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { AdsTestClient } from '../../src/control-plane/xds-server/ads-test-client.js';
import { CLUSTER_TYPE } from '../../src/xds/type-urls.js';
import { api, applyResources, createJoinToken, get, httpService, runCli, startControlPlane, startWorkload, waitForStatus, type ControlPlane } from './harness.js';

/** The proxies the control plane lists (REST API). */
async function proxies(cp: ControlPlane): Promise<any[]> {
  return (await api(cp, 'GET', '/api/v1/proxies')).body.items;
}

/** A proxy's xDS client state from its config dump (connected, lastError, versions). */
async function xdsState(adminUrl: string): Promise<{ connected: boolean; lastError?: string; versions: Record<string, string> }> {
  return ((await (await fetch(`${adminUrl}/config_dump`, { signal: AbortSignal.timeout(5000) })).json()) as any).xds;
}

const readyText = async (adminUrl: string) => {
  try {
    return await (await fetch(`${adminUrl}/ready`, { signal: AbortSignal.timeout(5000) })).text();
  } catch {
    return '';
  }
};

/** A control plane with payments and web, and web's local port for payments (ready). */
async function paymentsAndWeb(t: Parameters<typeof startControlPlane>[0]) {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('payments'), httpService('web')]);
  const payments = await startWorkload(t, cp, { service: 'payments' });
  const web = await startWorkload(t, cp, { service: 'web', upstreams: ['payments:8080'] });
  const url = `http://127.0.0.1:${web.upstreamPorts['payments:8080']}/`;
  await waitForStatus(url, 200, 20000);
  return { cp, payments, web, url };
}

test('a proxy with an evil token claiming app=payments is refused, and every web->payments call reaches payments', { timeout: 120000 }, async (t) => {
  const { cp, url } = await paymentsAndWeb(t);
  const evil = await createJoinToken(cp, 'evil');
  const rogue = await startWorkload(t, cp, { service: 'evil', labels: { app: 'payments' }, joinToken: evil.token, noWait: true });

  // Either the rogue is refused, or (the old behaviour) it registers; then traffic shows which.
  await waitFor(
    async () => /PERMISSION_DENIED/.test(await readyText(rogue.adminUrl)) || (await proxies(cp)).some((p) => p.service === 'evil' && p.connected),
    'the rogue proxy to be refused or registered',
    30000,
  );
  // Give web the chance to learn of a rogue endpoint if the control plane let it in: wait until
  // web's config version is the one the control plane last computed for it.
  await waitFor(
    async () => {
      const w = (await proxies(cp)).find((p) => p.service === 'web');
      return w !== undefined && w.current !== undefined && w.versions.endpoints === w.current.endpoints && w.versions.clusters === w.current.clusters;
    },
    'web to be in sync',
    20000,
  );

  const served = new Map<string, number>();
  const deadline = Date.now() + 30000;
  for (let i = 0; i < 60 && Date.now() < deadline; i++) {
    const r = await get(url);
    const who = r.status === 200 ? String(r.body.service) : `${r.status} ${r.headers.get('x-trellis-error') ?? ''}`;
    served.set(who, (served.get(who) ?? 0) + 1);
  }
  assert.deepEqual([...served.keys()], ['payments'], `every call reached payments; got ${JSON.stringify(Object.fromEntries(served))}`);

  const reason = await readyText(rogue.adminUrl);
  assert.match(reason, /PERMISSION_DENIED/);
  assert.match(reason, /XDS_LABEL_NOT_ALLOWED/);
  assert.match(reason, /app=payments/, 'the refusal names the label and value');
  assert.match(reason, /evil/, 'the refusal names what the token allows');
  const identity = ((await (await fetch(`${rogue.adminUrl}/config_dump`)).json()) as any).identity;
  assert.equal(identity?.spiffeId, undefined, 'the rogue got a certificate');
  assert.ok(!(await proxies(cp)).some((p) => p.service === 'evil'), 'the rogue was registered');
});

test('a token that names labels lets its proxy claim only those; others are refused before registering', { timeout: 120000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('reviews'), httpService('reviews-v2', { app: 'reviews', version: 'v2' })]);
  const appOfAnother = await api(cp, 'POST', '/api/v1/tokens', { role: 'join', service: 'evil', labels: { app: 'payments' } });
  assert.equal(appOfAnother.status, 400);
  assert.match(appOfAnother.body.error.message, /^labels\.app: a join token's app label is always its service "evil", got "payments"$/);
  const created = await runCli(['token', 'create', '--service', 'reviews', '--label', 'version=v2', '-o', 'json'], cp.cliEnv);
  assert.equal(created.code, 0, created.stderr);
  const v2 = JSON.parse(created.stdout) as { token: string; info: { labels?: Record<string, string> } };
  assert.deepEqual(v2.info.labels, { version: 'v2' });
  const listed = await runCli(['token', 'list'], cp.cliEnv);
  assert.match(listed.stdout, /join\s+default\/reviews\s+version=v2\s/);
  const claimsV3 = await startWorkload(t, cp, { service: 'reviews', version: 'v3', joinToken: v2.token, noWait: true });
  await waitFor(
    async () => /XDS_LABEL_NOT_ALLOWED.*version=v3/.test(await readyText(claimsV3.adminUrl)),
    'the proxy claiming version=v3 with a version=v2 token to be refused',
    30000,
  );
  const ok = await startWorkload(t, cp, { service: 'reviews', version: 'v2', joinToken: v2.token });
  assert.equal((await xdsState(ok.adminUrl)).connected, true);
  assert.deepEqual(
    (await proxies(cp)).map((p) => [p.service, p.labels.version]),
    [['reviews', 'v2']],
  );
});

test("a stream with the payments proxy's node id and a web token gets PERMISSION_DENIED; payments stays connected", { timeout: 120000 }, async (t) => {
  const { cp, payments, url } = await paymentsAndWeb(t);
  const real = (await proxies(cp)).find((p) => p.service === 'payments');
  assert.ok(real, 'payments is registered');
  await waitFor(async () => (await xdsState(payments.adminUrl)).connected, 'payments to be connected', 20000);
  const before = await xdsState(payments.adminUrl);
  const webToken = await createJoinToken(cp, 'web');
  const roots = readFileSync(cp.caFile, 'utf8');

  // A hijacker repeats the attempt: on the old control plane each one replaced the real stream.
  for (let attempt = 0; attempt < 5; attempt++) {
    const hijacker = new AdsTestClient(cp.xdsAddress, { rootCertsPem: roots, joinToken: webToken.token });
    t.after(() => hijacker.close());
    hijacker.send({
      node: AdsTestClient.node(real.id, {
        service: 'web',
        namespace: 'default',
        labels: {},
        address: '127.0.0.1',
        inbound: [{ port: 1, appPort: 2 }],
        upstreams: [],
        adminPort: 3,
      }),
      typeUrl: CLUSTER_TYPE,
    });
    const status = await Promise.race([hijacker.status, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15000).unref())]);
    hijacker.close();
    assert.ok(status, `attempt ${attempt}: the hijacking stream was not ended`);
    assert.equal(status.code, 7 /* PERMISSION_DENIED */, `attempt ${attempt}: ${status.details}`);
    assert.match(status.details, /XDS_NODE_ID_OWNED/);
    assert.match(status.details, /payments/, 'the refusal names the identity that owns the node id');
  }

  const after = await xdsState(payments.adminUrl);
  assert.equal(after.connected, true, 'payments lost its stream');
  assert.equal(after.lastError, before.lastError, `payments' stream ended: ${after.lastError}`);
  assert.doesNotMatch(String(after.lastError ?? ''), /XDS_STREAM_REPLACED/);
  assert.deepEqual(after.versions, before.versions, 'payments got new config');
  const listed = (await proxies(cp)).find((p) => p.id === real.id);
  assert.equal(listed.service, 'payments');
  assert.equal(listed.connected, true);
  assert.equal((await get(url)).body.service, 'payments');
});
