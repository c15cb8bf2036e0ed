// Zero trust with real processes: mTLS between sidecars (what the inbound port presents, what it
// refuses), outbound identity checks, join tokens (wrong service, revoked, missing), operator
// tokens on the REST API, and the CA's files on disk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { statSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { waitFor } from '../../src/common/wait.js';
import { api, applyResources, createJoinToken, get, httpService, runCli, startControlPlane, startWorkload, waitForStatus, type ControlPlane } from './harness.js';
import { issueCert, plaintext, tlsGet, trustBundle } from './tls-helpers.js';

const ID = (sa: string) => `spiffe://trellis.local/ns/default/sa/${sa}`;

/** Runs `openssl s_client` against 127.0.0.1:port and answers what it printed. */
function sClient(port: number, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-showcerts', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('error', reject);
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
    // Send a request and keep stdin open, so s_client reads until the server answers or closes (then stop it).
    p.stdin.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    setTimeout(() => p.stdin.end(), 3000).unref();
  });
}

async function meshOfTwo(t: Parameters<typeof startControlPlane>[0], cpArgs: string[] = []) {
  const cp = await startControlPlane(t, undefined, cpArgs);
  await applyResources(cp, [httpService('web'), httpService('client')]);
  const web = await startWorkload(t, cp, { service: 'web' });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['web:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['web:8080']}/`;
  await waitForStatus(url, 200);
  return { cp, web, client, url };
}

/** Sends `count` requests, `concurrency` at a time, for at most `maxMs`; answers the failures. */
async function steadyLoad(url: string, opts: { count: number; concurrency: number; maxMs: number }): Promise<{ sent: number; failures: string[] }> {
  const failures: string[] = [];
  let sent = 0;
  const end = Date.now() + opts.maxMs;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (sent < opts.count && Date.now() < end) {
        sent++;
        try {
          const r = await get(url);
          if (r.status !== 200) failures.push(`${r.status} ${r.headers.get('x-trellis-error') ?? ''} ${typeof r.body === 'string' ? r.body : ''}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    }),
  );
  return { sent, failures };
}

const identityOf = async (adminUrl: string) => ((await (await fetch(`${adminUrl}/config_dump`)).json()) as any).identity;

test('the inbound port presents the workload SPIFFE certificate over TLS 1.3 and refuses plaintext (STRICT)', { timeout: 90000 }, async (t) => {
  const { cp, web, url } = await meshOfTwo(t);
  const r = await get(url);
  assert.equal(r.status, 200);
  assert.equal(r.body.service, 'web');

  const out = await sClient(web.inboundPort);
  assert.match(out, /TLSv1\.3/, out);
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
  assert.ok(leaf, `s_client shows the certificate: ${out}`);
  assert.equal(new X509Certificate(leaf).subjectAltName, `URI:${ID('web')}`);
  // Without a client certificate the handshake is refused (certificate required) and no HTTP answer comes.
  assert.doesNotMatch(out, /HTTP\/1\.1 \d{3}/, out);
  assert.match(out, /certificate required/i, out);

  // TLS 1.1 is refused outright.
  const old = await sClient(web.inboundPort, ['-tls1_1']);
  assert.doesNotMatch(old, /Protocol version: TLSv1\.1/, old);

  assert.equal(await plaintext(web.inboundPort), '', 'plaintext got an answer from a STRICT inbound port');
  // The certificate is short-lived, issued by the mesh root, and the admin API shows it without a key.
  const id = await identityOf(web.adminUrl);
  assert.equal(id.spiffeId, ID('web'));
  const life = Date.parse(id.notAfter) - Date.now();
  assert.ok(life > 23 * 3600e3 && life <= 24 * 3600e3 + 60e3, `24 h default lifetime, got ${life} ms`);
  assert.doesNotMatch(JSON.stringify(await (await fetch(`${web.adminUrl}/config_dump`)).json()), /PRIVATE KEY/);
  void cp;
});

test("regression issue 12: trellis cert inspect --admin shows a running sidecar's workload certificate (its subject is empty)", { timeout: 90000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web')]);
  const web = await startWorkload(t, cp, { service: 'web' });
  const r = await runCli(['cert', 'inspect', '--admin', web.adminUrl]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^certificate:\n {2}subject {7}\(empty\)\n {2}issuer {8}O=Trellis, CN=Trellis mesh root /, r.stdout);
  assert.match(r.stdout, new RegExp(`spiffe id {5}${ID('web')}\n`), r.stdout);
  assert.match(r.stdout, /ca {12}false\n/, r.stdout);
});

test('client certificates from another CA, expired or not yet valid are refused; a valid one is served', { timeout: 90000 }, async (t) => {
  const { cp, web } = await meshOfTwo(t);
  const ca = await trustBundle(cp.dataDir);
  const caDir = path.join(cp.dataDir, 'ca');
  const valid = await issueCert(caDir, ID('client'));
  assert.equal((await tlsGet(web.inboundPort, valid, ca)).status, 200, 'a valid mesh certificate gets through');

  const foreignDir = mkdtempSync(path.join(os.tmpdir(), 'trellis-foreign-ca-'));
  cleanup(t, () => rmSync(foreignDir, { recursive: true, force: true }));
  const foreign = await issueCert(foreignDir, ID('client'));
  const expired = await issueCert(caDir, ID('client'), { now: Date.now() - 2 * 86400e3, ttlSeconds: 3600 });
  const future = await issueCert(caDir, ID('client'), { now: Date.now() + 86400e3, ttlSeconds: 3600 });
  for (const [name, cert] of [
    ['another CA', foreign],
    ['expired', expired],
    ['not yet valid', future],
    ['no certificate', undefined],
  ] as const) {
    const r = await tlsGet(web.inboundPort, cert, ca);
    assert.equal(r.status, undefined, `${name}: got HTTP ${r.status}`);
    assert.ok(r.refused, name);
  }
});

test('outbound refuses a valid mesh certificate of the wrong identity', { timeout: 90000 }, async (t) => {
  const { cp, web, url } = await meshOfTwo(t);
  const port = web.inboundPort;
  // web crashes (a graceful stop would withdraw its endpoint first).
  await web.stop('SIGKILL');
  // An impostor on web's port with a real mesh certificate, but for another identity.
  const evil = await issueCert(path.join(cp.dataDir, 'ca'), ID('evil'));
  const impostor = tls.createServer({ ...evil, ca: await trustBundle(cp.dataDir), requestCert: true, rejectUnauthorized: false }, (s) => {
    s.on('error', () => {});
    s.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nstolen');
  });
  await new Promise<void>((resolve) => impostor.listen(port, '127.0.0.1', resolve));
  cleanup(t, () => impostor.close());
  // The endpoint stays listed (unhealthy) during the grace period, so the client proxy dials the impostor.
  const r = await get(url);
  assert.equal(r.status, 502, `got ${r.status}: ${JSON.stringify(r.body)}`);
  assert.equal(r.headers.get('x-trellis-error'), 'UPSTREAM_CONNECT_FAILED');
  assert.match(String(r.body), /presented spiffe:\/\/trellis\.local\/ns\/default\/sa\/evil, expected spiffe:\/\/trellis\.local\/ns\/default\/sa\/web/);
  assert.doesNotMatch(String(r.body), /stolen/);
});

test("join tokens: none, another service's, or a revoked one get a clear refusal", { timeout: 90000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('payments'), httpService('orders')]);
  const reason = async (adminUrl: string) => {
    try {
      return await (await fetch(`${adminUrl}/ready`)).text();
    } catch {
      return '';
    }
  };
  const forPayments = await createJoinToken(cp, 'payments');
  const impostor = await startWorkload(t, cp, { service: 'orders', joinToken: forPayments.token, noWait: true });
  await waitFor(
    async () => /PERMISSION_DENIED.*cannot obtain the identity of service orders/.test(await reason(impostor.adminUrl)),
    'the orders proxy with a payments token to be refused',
    20000,
  );
  assert.equal((await identityOf(impostor.adminUrl)).spiffeId, undefined, 'the impostor got a certificate');

  const anonymous = await startWorkload(t, cp, { service: 'orders', joinToken: 'trellis-join.000000000000.not-a-real-secret-at-all', noWait: true });
  await waitFor(async () => /UNAUTHENTICATED/.test(await reason(anonymous.adminUrl)), 'a proxy with a made-up token to be refused', 20000);

  const payments = await startWorkload(t, cp, { service: 'payments', joinToken: forPayments.token });
  assert.equal((await identityOf(payments.adminUrl)).spiffeId, ID('payments'));
  const revoked = await api(cp, 'DELETE', `/api/v1/tokens/${forPayments.id}`);
  assert.equal(revoked.status, 200);
  await waitFor(
    async () => /revoked/.test(((await (await fetch(`${payments.adminUrl}/config_dump`)).json()) as any).xds.lastError ?? ''),
    'the revoked proxy to be disconnected and refused',
    20000,
  );
  const listed = (await api(cp, 'GET', '/api/v1/tokens')).body.items.find((x: any) => x.id === forPayments.id);
  assert.ok(listed.revokedAt, 'the token list shows the revocation');
  // No secret ever reaches the control plane's output or the token list.
  assert.doesNotMatch(cp.output(), new RegExp(forPayments.token.split('.')[2]!));
  assert.doesNotMatch(JSON.stringify(listed), /sha256|secret/);
});

test('certificate rotation under a steady load finishes with zero failed requests', { timeout: 120000 }, async (t) => {
  const { cp, web, client, url } = await meshOfTwo(t, ['--cert-ttl', '4s']);
  const before = [(await identityOf(web.adminUrl)).rotations, (await identityOf(client.adminUrl)).rotations];
  const loadStart = Date.now();
  const { sent, failures } = await steadyLoad(url, { count: 3000, concurrency: 4, maxMs: 10000 });
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} failed`);
  const after = [(await identityOf(web.adminUrl)).rotations, (await identityOf(client.adminUrl)).rotations];
  assert.ok(after[0] - before[0] >= 2 && after[1] - before[1] >= 2, `both sidecars rotated at least twice: ${before.join(',')} -> ${after.join(',')}`);
  assert.ok(sent > 100, `only ${sent} requests were sent`);
  // The control plane reports each proxy's latest certificate (what `trellis check` reads): 4 s long, issued during the load.
  const proxies = (await api(cp, 'GET', '/api/v1/proxies')).body.items as { id: string; certificate?: { notBefore: string; notAfter: string } }[];
  assert.equal(proxies.length, 2);
  for (const p of proxies) {
    assert.ok(p.certificate, `${p.id} reports its certificate`);
    const from = Date.parse(p.certificate.notBefore);
    assert.ok(from > loadStart, `${p.id}: the reported certificate was renewed during the load (${p.certificate.notBefore})`);
    assert.ok(Math.abs(Date.parse(p.certificate.notAfter) - from - 4000) < 1500, `${p.id}: a 4 s certificate, got ${JSON.stringify(p.certificate)}`);
  }
});

test('a root rotation with overlap keeps traffic flowing and moves workloads to the new root', { timeout: 120000 }, async (t) => {
  const { cp, web, client, url } = await meshOfTwo(t, ['--cert-ttl', '1h']);
  const oldRoot = (await api(cp, 'GET', '/api/v1/ca')).body.roots[0].sha256;
  const load = steadyLoad(url, { count: 2000, concurrency: 4, maxMs: 8000 });
  await new Promise((r) => setTimeout(r, 1500));
  const rotated = await api(cp, 'POST', '/api/v1/ca/rotate', { overlap: '1h' });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  assert.equal(rotated.body.roots.length, 2, 'old and new roots are both trusted');
  assert.notEqual(rotated.body.roots[0].sha256, oldRoot);
  const { sent, failures } = await load;
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} failed`);
  // A new root makes every proxy renew at once (not at half-life), under the new root.
  const newSubject = rotated.body.roots[0].subject;
  for (const w of [web, client]) {
    await waitFor(async () => (await identityOf(w.adminUrl)).rotations >= 1, 'the proxy to renew under the new root', 10000);
  }
  const r = await get(url);
  assert.equal(r.status, 200);
  assert.ok(newSubject.length > 0);
});

test('the CA key and token files are owner-only and hold no token secret', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  const join = await createJoinToken(cp, 'web');
  assert.equal(statSync(path.join(cp.dataDir, 'ca', 'signing-key.pem')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(cp.dataDir, 'ca')).mode & 0o077, 0, 'the CA directory is owner-only');
  assert.equal(statSync(path.join(cp.dataDir, 'tokens.json')).mode & 0o777, 0o600);
  const stored = readFileSync(path.join(cp.dataDir, 'tokens.json'), 'utf8');
  assert.doesNotMatch(stored, new RegExp(join.token.split('.')[2]!), 'a join token secret is stored');
  assert.doesNotMatch(stored, new RegExp(cp.token.split('.')[2]!), 'the admin token secret is stored');
});

test('the REST API needs an operator token; read-only tokens may only read', { timeout: 60000 }, async (t) => {
  const cp: ControlPlane = await startControlPlane(t);
  const none = await api(cp, 'GET', '/api/v1/services', undefined, null);
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, 'UNAUTHENTICATED');
  assert.equal((await api(cp, 'GET', '/api/v1/services', undefined, 'trellis-admin.000000000000.wrongwrongwrongwrongwrong')).status, 401);
  const ro = await api(cp, 'POST', '/api/v1/tokens', { role: 'read-only' });
  assert.equal(ro.status, 201);
  assert.equal((await api(cp, 'GET', '/api/v1/services', undefined, ro.body.token)).status, 200);
  const write = await api(cp, 'POST', '/api/v1/apply', { resources: [httpService('x')] }, ro.body.token);
  assert.equal(write.status, 403);
  assert.match(write.body.error.message, /read-only/);
  // A join token is not an operator token.
  const join = await createJoinToken(cp, 'web');
  assert.equal((await api(cp, 'GET', '/api/v1/services', undefined, join.token)).status, 401);
  assert.equal((await fetch(`${cp.apiUrl}/healthz`)).status, 200, 'health stays open');
});

test('PERMISSIVE accepts plaintext on the inbound port; a Service annotation can make it STRICT again', { timeout: 90000 }, async (t) => {
  const { cp, web, url } = await meshOfTwo(t);
  await applyResources(cp, [{ apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { mtls: { mode: 'PERMISSIVE' } } }]);
  await waitFor(async () => /^HTTP\/1\.1 200/.test(await plaintext(web.inboundPort)), 'plaintext to be accepted in PERMISSIVE mode', 10000).catch(async (e) => {
    throw new Error(`${(e as Error).message}; web's config: ${JSON.stringify(((await (await fetch(`${web.adminUrl}/config_dump`)).json()) as any).xds)}`);
  });
  assert.equal((await get(url)).status, 200, 'mTLS still works in PERMISSIVE mode');
  const strict = httpService('web');
  (strict.metadata as any).annotations = { 'trellis.io/mtls-mode': 'STRICT' };
  await applyResources(cp, [strict]);
  await waitFor(async () => (await plaintext(web.inboundPort)) === '', 'the STRICT annotation to refuse plaintext again', 10000);
  assert.equal((await get(url)).status, 200);
});
