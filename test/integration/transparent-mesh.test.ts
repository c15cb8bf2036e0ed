// Transparent mode on real test hosts (root only): three network namespaces, each an
// unmodified application with its sidecar under iptables capture. The applications call each
// other by mesh name with no proxy settings; HTTP/1.1, HTTP/2, gRPC streaming, raw TCP and a
// server-first protocol on a declared opaque port cross both sidecars, every hop between them
// mutual TLS, with authorization on the caller's identity; names outside the mesh
// resolve upstream and pass through; with the Refuse policy they fail fast and are counted;
// afterwards nothing of the test is left on the machine.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { listNamespaces, run } from '../../src/netns/index.js';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, runCli } from './harness.js';
import { requireTestHosts, startCapturedWorkload, startTransparentMesh, sumCounter, TRANSPARENT_FIXTURES } from './transparent-harness.js';

const service = (name: string, app: string, port: number, appProtocol: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { selector: { app }, ports: [{ name: 'main', port, appProtocol }] },
});
const clients = path.join(TRANSPARENT_FIXTURES, 'clients.mjs');
const NO_PROXY_ENV = ['env', '-u', 'HTTP_PROXY', '-u', 'http_proxy', '-u', 'HTTPS_PROXY', '-u', 'https_proxy', '-u', 'NO_PROXY', '-u', 'no_proxy'];

test('transparent mode: unmodified apps on three test hosts reach each other by mesh name through both sidecars', { timeout: 240_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  const mesh = await startTransparentMesh(t, 'a');
  const { lab, cp } = mesh;
  await applyResources(cp, [
    service('payments', 'payments', 8080, 'http'),
    service('h2echo', 'backend', 8081, 'http2'),
    service('greeter', 'backend', 9000, 'grpc'),
    service('smtpish', 'backend', 9100, 'tcp'),
    service('frontend', 'frontend', 8080, 'http'),
  ]);
  const [frontend, payments, backend] = await Promise.all([
    startCapturedWorkload(t, mesh, { host: 'frontend', service: 'frontend', port: 8080, app: ['python3', path.join(TRANSPARENT_FIXTURES, 'http-app.py')] }),
    startCapturedWorkload(t, mesh, { host: 'payments', service: 'payments', port: 8080, app: ['python3', path.join(TRANSPARENT_FIXTURES, 'http-app.py')] }),
    startCapturedWorkload(t, mesh, {
      host: 'backend',
      service: 'backend',
      port: 8081,
      extraPorts: [9000, 9100],
      app: [process.execPath, path.join(TRANSPARENT_FIXTURES, 'backend-app.mjs')],
      env: { GRPC_PORT: '9000', TCP_PORT: '9100' },
    }),
  ]);
  // A host outside the mesh, and the upstream resolver (in the bridge's namespace) that knows its name.
  const outside = lab.addHost('outside');
  const ext = lab.spawn('outside', ['python3', '-m', 'http.server', '8000', '--bind', outside.address], { stdio: 'ignore' });
  cleanup(t, () => ext.kill('SIGKILL'));
  const dns = lab.spawn('bridge', [process.execPath, path.join(TRANSPARENT_FIXTURES, 'fake-dns.mjs'), lab.gateway, `outside.test=${outside.address}`], { stdio: 'ignore' });
  cleanup(t, () => dns.kill('SIGKILL'));

  /** Runs a client program inside the frontend's namespace: it is the frontend application's own traffic. */
  const inFrontend = (argv: string[]) => lab.exec('frontend', [...NO_PROXY_ENV, ...argv]);
  const json = (argv: string[]) => JSON.parse(inFrontend(argv));

  await t.test('HTTP/1.1 from Python by mesh name (payments.mesh)', async () => {
    const py = `import json, urllib.request; print(urllib.request.urlopen('http://payments.mesh:8080/pay', timeout=5).read().decode())`;
    await waitFor(async () => JSON.parse(inFrontend(['python3', '-c', py])).service === 'payments', 'a first call through the mesh', 20000, 250);
    const body = JSON.parse(inFrontend(['python3', '-c', py]));
    assert.deepEqual({ service: body.service, path: body.path, host: body.host }, { service: 'payments', path: '/pay', host: 'payments.mesh:8080' });
  });

  await t.test('HTTP/1.1 from Node.js fetch by the svc name', () => {
    const r = json([process.execPath, clients, 'fetch', 'http://payments.default.svc:8080/from-node']);
    assert.equal(r.status, 200);
    assert.equal(r.body.path, '/from-node');
  });

  await t.test('HTTP/2 with prior knowledge (curl)', () => {
    const r = JSON.parse(inFrontend(['curl', '-sS', '--max-time', '5', '--http2-prior-knowledge', 'http://h2echo.mesh:8081/h2']));
    assert.deepEqual(r, { service: 'backend', protocol: 'h2', path: '/h2' });
  });

  await t.test("protocol translation by the original destination's appProtocol: h2c to the HTTP/1.1 app, HTTP/1.1 to the h2c-only app", () => {
    const toH1 = JSON.parse(inFrontend(['curl', '-sS', '--max-time', '5', '--http2-prior-knowledge', 'http://payments.mesh:8080/h2-to-h1']));
    assert.deepEqual(toH1, { service: 'payments', path: '/h2-to-h1', host: 'payments.mesh:8080' });
    const toH2 = JSON.parse(inFrontend(['curl', '-sS', '--max-time', '5', '--http1.1', 'http://h2echo.mesh:8081/h1-to-h2']));
    assert.deepEqual(toH2, { service: 'backend', protocol: 'h2', path: '/h1-to-h2' });
  });

  await t.test('gRPC bidirectional streaming (@grpc/grpc-js)', () => {
    const r = json([process.execPath, clients, 'grpc', 'greeter.mesh:9000']);
    assert.deepEqual(
      r.replies.map((m: { echo: string }) => m.echo),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
    assert.equal(r.replies[0].served_by, 'backend');
  });

  await t.test('a server-first TCP protocol on a declared opaque port, echo with half-close', () => {
    const r = json([process.execPath, clients, 'tcp', 'smtpish.mesh', '9100']);
    assert.equal(r.data, '220 backend ready\r\nping over opaque tcp');
  });

  await t.test('the traffic crossed both sidecars (their metrics)', () => {
    const out = frontend.metrics();
    assert.ok(sumCounter(out, 'trellis_requests_total', { direction: 'outbound', service: 'payments.default' }) >= 2, 'frontend sidecar: outbound HTTP to payments');
    assert.ok(sumCounter(out, 'trellis_requests_total', { direction: 'outbound', service: 'h2echo.default' }) >= 1, 'frontend sidecar: outbound HTTP/2');
    assert.ok(sumCounter(out, 'trellis_requests_total', { direction: 'outbound', service: 'greeter.default' }) >= 1, 'frontend sidecar: outbound gRPC');
    assert.ok(sumCounter(out, 'trellis_tcp_connections_total', { direction: 'outbound', service: 'smtpish.default' }) >= 1, 'frontend sidecar: outbound TCP');
    assert.ok(sumCounter(payments.metrics(), 'trellis_requests_total', { direction: 'inbound' }) >= 2, 'payments sidecar: inbound HTTP');
    const back = backend.metrics();
    assert.ok(sumCounter(back, 'trellis_requests_total', { direction: 'inbound' }) >= 2, 'backend sidecar: inbound HTTP/2 and gRPC');
    assert.ok(sumCounter(back, 'trellis_tcp_connections_total', { direction: 'inbound' }) >= 1, 'backend sidecar: inbound TCP');
  });

  await t.test('the hops between the sidecars are mutual TLS; a host outside the mesh gets no plaintext answer (STRICT)', async () => {
    const pay = payments.metrics();
    assert.ok(sumCounter(pay, 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'ok' }) >= 1, 'payments sidecar: inbound mTLS handshakes');
    assert.ok(
      sumCounter(pay, 'trellis_requests_total', { direction: 'inbound', source_service: 'frontend.default', source_authenticated: 'true' }) >= 2,
      'payments sidecar: the caller known from its certificate',
    );
    assert.ok(sumCounter(backend.metrics(), 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'ok' }) >= 3, 'backend sidecar: HTTP/2, gRPC and TCP over mTLS');
    const failedBefore = sumCounter(pay, 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'failed' });
    const plain = await lab
      .execAsync('outside', ['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${payments.host.address}:8080/pay`], 10_000)
      .then(
        (out) => `answered ${out}`,
        (e: Error) => e.message,
      );
    assert.doesNotMatch(plain, /^answered/, 'a plaintext client outside the mesh got an HTTP answer');
    await waitFor(
      async () => sumCounter(payments.metrics(), 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'failed' }) > failedBefore,
      'the refused handshake counted',
      5000,
      100,
    );
  });

  await t.test('bytes that are not HTTP on an http port reach the application through mTLS as opaque TCP (chosen by ALPN)', () => {
    // The caller's detection sees no HTTP and relays the bytes over mTLS without ALPN; the
    // callee's chain for that is opaque, so the application itself answers (Python's 400 page),
    // not the callee's HTTP parser.
    const r = json([process.execPath, clients, 'send', 'payments.mesh', '8080', 'hello opaque world\r\n\r\n']);
    assert.match(r.data, /Bad request version \('world'\)/, JSON.stringify(r));
  });

  await t.test("an AuthorizationPolicy applies on the capture path: DENY by the caller's identity answers 403", async () => {
    await applyResources(cp, [
      {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'no-admin-from-frontend', namespace: 'default' },
        spec: { targetRef: { kind: 'Service', name: 'payments' }, action: 'DENY', rules: [{ from: [{ serviceAccounts: ['frontend'] }], to: [{ paths: [{ prefix: '/admin' }] }] }] },
      },
    ]);
    const status = (p: string) => inFrontend(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://payments.mesh:8080${p}`]);
    await waitFor(async () => status('/admin/x') === '403', 'the policy to reach the payments sidecar', 15000, 250);
    assert.equal(status('/pay'), '200', 'what the policy does not deny still passes');
    assert.ok(sumCounter(payments.metrics(), 'trellis_authz_decisions_total', { direction: 'inbound', decision: 'deny' }) >= 1);
  });

  await t.test('a name outside the mesh resolves upstream and passes through (PassThrough policy)', () => {
    const r = inFrontend(['curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code} %{remote_ip}', 'http://outside.test:8000/']);
    assert.equal(r, `200 ${outside.address}`);
    assert.ok(sumCounter(frontend.metrics(), 'trellis_tcp_connections_total', { direction: 'outbound', service: 'PassthroughCluster' }) >= 1);
  });

  await t.test('with the Refuse policy an unknown destination fails fast with a clear error and is counted', async () => {
    await applyResources(cp, [{ apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { outboundPolicy: 'Refuse' } }]);
    const attempt = () => inFrontend(['curl', '-sS', '--max-time', '5', '-D', '-', `http://${outside.address}:8000/`]);
    await waitFor(async () => attempt().includes('x-trellis-error: OUTBOUND_REFUSED'), 'the Refuse policy to reach the frontend sidecar', 15000, 250);
    const answer = attempt();
    assert.match(answer, /^HTTP\/1\.1 502/);
    assert.match(answer, new RegExp(`outbound connection to ${outside.address.replace(/\./g, '\\.')}:8000 refused: it is not a mesh Service`));
    assert.ok(sumCounter(frontend.metrics(), 'trellis_outbound_refused_total', { protocol: 'http/1.1' }) >= 2);
    // Opaque TCP is refused with a reset, at once (curl's telnet needs no HTTP).
    const raw = (() => {
      try {
        return inFrontend([process.execPath, clients, 'tcp', outside.address, '8000']);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    assert.match(raw, /ECONNRESET|socket hang up|tcp failed/);
    assert.ok(sumCounter(frontend.metrics(), 'trellis_outbound_refused_total', { protocol: 'opaque' }) >= 1);
    // Mesh Services still work.
    assert.equal(json([process.execPath, clients, 'fetch', 'http://payments.mesh:8080/after']).body.path, '/after');
  });

  await t.test('capture rules are listed by `trellis capture list` in each namespace', async () => {
    const r = await runCli(['capture', 'list', '--netns', payments.host.netns]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /-A TRELLIS_OUTPUT -m owner --gid-owner 1337 -j RETURN/);
    assert.match(r.stdout, /-A TRELLIS_OUTPUT -o lo -j RETURN/);
    assert.match(r.stdout, /-A TRELLIS_INBOUND -p tcp -j REDIRECT --to-ports 15006/);
    assert.match(r.stdout, /-A TRELLIS_OUTPUT -p tcp -j REDIRECT --to-ports 15001/);
    assert.match(r.stdout, /-A TRELLIS_DNS -p udp -m udp --dport 53 -j REDIRECT --to-ports 15053/);
  });

  // Stop everything the way a user would, then prove nothing is left.
  await Promise.all([frontend.stop(), payments.stop(), backend.stop()]);
  ext.kill('SIGKILL');
  dns.kill('SIGKILL');
  for (const h of [frontend, payments, backend]) {
    assert.doesNotMatch(run(['ip', 'netns', 'exec', h.host.netns, 'iptables', '-t', 'nat', '-S']), /TRELLIS/, `${h.host.name}: rules removed by trellis run`);
    assert.deepEqual(run(['ip', 'netns', 'pids', h.host.netns]).trim(), '', `${h.host.name}: no process left`);
  }
  const problems = lab.destroy();
  assert.deepEqual(problems, []);
  assert.deepEqual(
    listNamespaces().filter((n) => n.startsWith(`${lab.prefix}-`)),
    [],
    'no namespace left',
  );
  assert.doesNotMatch(run(['ip', '-o', 'link']), new RegExp(`v-(frontend|payments|backend|outside)`), "no veth in the machine's namespace");
  assert.doesNotMatch(run(['iptables', '-t', 'nat', '-S']), /TRELLIS/, "no rule in the machine's namespace");
});
