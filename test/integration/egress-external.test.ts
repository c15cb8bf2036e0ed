// Egress on real test hosts (root only): a captured workload under MeshConfig outboundPolicy
// Refuse reaches only what ExternalServices declare. Stand-ins for external services run on a
// host outside the mesh, whose names the lab's resolver knows: a plain HTTP server (resolved by
// the proxy with DNS), an HTTPS server whose certificate a test CA signs (TLS originated by the
// proxy from the app's plain HTTP), and one whose certificate another CA signs (refused).
// Explicit mode, on loopback: the HTTP proxy listener routes declared hosts, with TLS originated.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { PROJECT_ROOT } from '../../src/common/self.js';
import { waitFor } from '../../src/common/wait.js';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { applyResources, counter, startControlPlane, startWorkload } from './harness.js';
import { requireTestHosts, startCapturedWorkload, startTransparentMesh, sumCounter, TRANSPARENT_FIXTURES } from './transparent-harness.js';

const NO_PROXY_ENV = ['env', '-u', 'HTTP_PROXY', '-u', 'http_proxy', '-u', 'HTTPS_PROXY', '-u', 'https_proxy', '-u', 'NO_PROXY', '-u', 'no_proxy'];
const HTTPS_APP = path.join(PROJECT_ROOT, 'test/fixtures/egress/https-app.mjs');

/** A CA and a server certificate for `host` it signs, as PEM files in `dir`. */
function makeCa(dir: string, name: string, host: string): { ca: string; cert: string; key: string } {
  const f = (x: string) => path.join(dir, `${name}-${x}`);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-subj',
    `/CN=${name} test CA`,
    '-days',
    '2',
  ]);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('key.pem'), '-out', f('csr.pem'), '-subj', `/CN=${host}`]);
  writeFileSync(f('ext.cnf'), `subjectAltName=DNS:${host}\n`);
  openssl(['x509', '-req', '-in', f('csr.pem'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('cert.pem'), '-days', '2', '-extfile', f('ext.cnf')]);
  return { ca: readFileSync(f('ca.pem'), 'utf8'), cert: f('cert.pem'), key: f('key.pem') };
}

const external = (name: string, spec: object) => ({ apiVersion: 'trellis.dev/v1alpha1', kind: 'ExternalService', metadata: { name, namespace: 'default' }, spec });

test(
  'egress: under outboundPolicy Refuse a captured workload reaches declared external hosts only, with TLS originated and the server checked',
  { timeout: 240_000 },
  async (t) => {
    if (!requireTestHosts(t)) return;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-egress-'));
    cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
    const good = makeCa(dir, 'good', 'secure.test');
    const rogue = makeCa(dir, 'rogue', 'rogue.test');

    const mesh = await startTransparentMesh(t, 'g');
    const { lab, cp } = mesh;
    const outside = lab.addHost('outside');
    const servers = [
      lab.spawn('outside', ['python3', '-m', 'http.server', '8000', '--bind', outside.address], { stdio: 'ignore' }),
      lab.spawn('outside', [process.execPath, HTTPS_APP, outside.address, '8443', good.cert, good.key, 'secure'], { stdio: 'ignore' }),
      lab.spawn('outside', [process.execPath, HTTPS_APP, outside.address, '9443', rogue.cert, rogue.key, 'rogue'], { stdio: 'ignore' }),
      lab.spawn(
        'bridge',
        [
          process.execPath,
          path.join(TRANSPARENT_FIXTURES, 'fake-dns.mjs'),
          lab.gateway,
          ...['plain.test', 'secure.test', 'rogue.test', 'undeclared.test'].map((h) => `${h}=${outside.address}`),
        ],
        { stdio: 'ignore' },
      ),
    ];
    cleanup(t, () => servers.forEach((s) => s.kill('SIGKILL')));

    await applyResources(cp, [
      { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { outboundPolicy: 'Refuse' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'caller', namespace: 'default' }, spec: { selector: { app: 'caller' }, ports: [{ port: 8080 }] } },
      external('plain', { hosts: ['plain.test'], ports: [{ port: 8000, protocol: 'http' }] }),
      external('secure', { hosts: ['secure.test'], ports: [{ port: 80, targetPort: 8443, protocol: 'http' }], tls: { mode: 'Originate', caCertificates: good.ca } }),
      // Its server's certificate is signed by the rogue CA, not the one given here.
      external('rogue', { hosts: ['rogue.test'], ports: [{ port: 80, targetPort: 9443, protocol: 'http' }], tls: { mode: 'Originate', caCertificates: good.ca } }),
    ]);
    const caller = await startCapturedWorkload(t, mesh, { host: 'caller', service: 'caller', port: 8080, app: ['python3', path.join(TRANSPARENT_FIXTURES, 'http-app.py')] });
    /** curl from the caller's namespace (the application's own traffic): status line, headers and body. */
    const curl = (url: string) => lab.execAsync('caller', [...NO_PROXY_ENV, 'curl', '-sS', '--max-time', '5', '-D', '-', url], 15_000).catch((e: Error) => e.message);

    await t.test('a declared plain HTTP host is reached by name (DNS-resolved by the proxy) and counted under its ExternalService', async () => {
      await waitFor(async () => /^HTTP\/1\.[01] 200/.test(await curl('http://plain.test:8000/')), 'plain.test reached through the sidecar', 60_000, 250);
      const out = caller.metrics();
      assert.ok(sumCounter(out, 'trellis_requests_total', { direction: 'outbound', service: 'plain.default' }) >= 1, out);
    });

    await t.test('an undeclared host is refused with the policy named, and counted', async () => {
      const before = sumCounter(caller.metrics(), 'trellis_outbound_refused_total');
      const answer = await curl('http://undeclared.test:8000/');
      assert.match(answer, /^HTTP\/1\.1 502/);
      assert.match(answer, /x-trellis-error: OUTBOUND_REFUSED/);
      assert.match(answer, /outbound connection to [0-9.]+:8000 refused: .*outboundPolicy is Refuse/);
      assert.ok(sumCounter(caller.metrics(), 'trellis_outbound_refused_total') > before);
    });

    await t.test('TLS origination: the app speaks plain HTTP, the proxy TLS to the server, whose certificate the given CA signs for the host', async () => {
      const answer = await curl('http://secure.test/originated');
      assert.match(answer, /^HTTP\/1\.1 200/, answer);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { server: string; sni: string; path: string };
      assert.deepEqual([body.server, body.sni, body.path], ['secure', 'secure.test', '/originated']);
      const out = caller.metrics();
      assert.ok(sumCounter(out, 'trellis_requests_total', { direction: 'outbound', service: 'secure.default' }) >= 1, out);
    });

    await t.test('TLS origination refuses a server whose certificate the given CA does not sign', async () => {
      const answer = await curl('http://rogue.test/');
      assert.match(answer, /^HTTP\/1\.1 50[23]/, answer);
      assert.doesNotMatch(answer, /"server": ?"rogue"/, 'the rogue server answered through the proxy');
      assert.match(answer, /x-trellis-error: UPSTREAM_CONNECT_FAILED/, answer);
    });
  },
);

test(
  'egress, explicit mode: the HTTP proxy listener routes declared hosts (TLS originated to a server the given CA signs) and has no route for others',
  { timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-egress-'));
    cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
    const good = makeCa(dir, 'good', 'secure.test');
    const answer = (name: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ server: name, host: req.headers.host, path: req.url }));
    };
    const plain = http.createServer(answer('plain'));
    const secure = https.createServer({ cert: readFileSync(good.cert), key: readFileSync(good.key) }, answer('secure'));
    for (const server of [plain, secure]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanup(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
    }
    const portOf = (server: http.Server) => (server.address() as AddressInfo).port;

    const cp = await startControlPlane(t);
    await applyResources(cp, [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'caller', namespace: 'default' }, spec: { selector: { app: 'caller' }, ports: [{ port: 8080 }] } },
      external('plain', { hosts: ['plain.test'], ports: [{ port: 80, targetPort: portOf(plain), protocol: 'http' }], endpoints: [{ address: '127.0.0.1' }] }),
      external('secure', {
        hosts: ['secure.test'],
        ports: [{ port: 80, targetPort: portOf(secure), protocol: 'http' }],
        endpoints: [{ address: '127.0.0.1' }],
        tls: { mode: 'Originate', caCertificates: good.ca },
      }),
    ]);
    const caller = await startWorkload(t, cp, { service: 'caller' });
    /** A request through the caller's HTTP proxy listener, as an application with HTTP_PROXY makes it. */
    const viaProxy = (url: string) =>
      new Promise<{ status: number; error: string | undefined; body: string }>((resolve, reject) => {
        const u = new URL(url);
        const req = http.get({ host: '127.0.0.1', port: caller.httpProxyPort, path: url, headers: { host: u.host }, timeout: 5000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, error: res.headers['x-trellis-error'] as string | undefined, body }));
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
      });

    await waitFor(async () => (await viaProxy('http://plain.test/hello').catch(() => undefined))?.status === 200, 'plain.test routed by the HTTP proxy listener', 30_000, 250);
    assert.deepEqual(JSON.parse((await viaProxy('http://plain.test/hello')).body), { server: 'plain', host: 'plain.test', path: '/hello' });
    const originated = await viaProxy('http://secure.test/over-tls');
    assert.equal(originated.status, 200, originated.body);
    assert.deepEqual(JSON.parse(originated.body), { server: 'secure', host: 'secure.test', path: '/over-tls' });
    const undeclared = await viaProxy('http://undeclared.test/');
    assert.deepEqual([undeclared.status, undeclared.error], [404, 'NO_ROUTE']);
    assert.match(undeclared.body, /no route for host undeclared\.test/);
    assert.ok((await counter(caller.adminUrl, 'trellis_requests_total', { direction: 'outbound', service: 'secure.default' })) >= 1);
    assert.ok((await counter(caller.adminUrl, 'trellis_requests_total', { direction: 'outbound', service: 'plain.default' })) >= 2);
  },
);
