// Transparent capture from the attacker's side (root only; issue 10, items 3 and 4). An
// application listens the way Node.js does by default, on `::`, on a port its Service declares
// and on one it does not. A host outside the mesh, in another network namespace, tries it in
// plaintext over IPv6 (unique local and link-local addresses) and over IPv4 on the undeclared
// port: under STRICT it gets no answer from the application, only a refused handshake. A
// meshed caller still reaches the undeclared port, over mTLS; an operator's explicit exclusion
// stays plaintext; and a DENY policy holds over IPv6 as over IPv4 (PERMISSIVE, where plaintext
// is served through the sidecar).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources } from './harness.js';
import { requireTestHosts, startCapturedWorkload, startTransparentMesh, sumCounter, TRANSPARENT_FIXTURES } from './transparent-harness.js';

const APP = [process.execPath, path.join(TRANSPARENT_FIXTURES, 'dual-stack-app.mjs')];
const NO_PROXY_ENV = ['env', '-u', 'HTTP_PROXY', '-u', 'http_proxy'];
/** Declared by the Services below. */
const DECLARED = 8080;
/** Served by the application, declared by no Service. */
const UNDECLARED = 9090;
/** Served by the application, declared by no Service, and excluded from capture by the operator. */
const EXCLUDED = 9191;

const service = (name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', annotations },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: DECLARED, appProtocol: 'http' }] },
});

/** What a plain HTTP GET got: the application's (or sidecar's) answer, or curl's error. */
type Outcome = { answered: true; status: string; body: string } | { answered: false; error: string };

test('transparent capture: no plaintext path to a meshed app over IPv6 or on undeclared ports under STRICT; DENY holds over IPv6', { timeout: 300_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  const mesh = await startTransparentMesh(t, 'a');
  const { lab, cp } = mesh;
  await applyResources(cp, [service('payments'), service('frontend'), service('billing', { 'trellis.io/mtls-mode': 'PERMISSIVE' })]);
  const env = { MORE_PORTS: `${UNDECLARED},${EXCLUDED}` };
  const [payments, frontend, billing] = await Promise.all([
    startCapturedWorkload(t, mesh, { host: 'payments', service: 'payments', port: DECLARED, runArgs: ['--exclude-inbound-ports', String(EXCLUDED)], app: APP, env }),
    startCapturedWorkload(t, mesh, { host: 'frontend', service: 'frontend', port: DECLARED, app: APP, env }),
    startCapturedWorkload(t, mesh, { host: 'billing', service: 'billing', port: DECLARED, app: APP, env }),
  ]);
  // The attacker: a host on the same bridge with no sidecar.
  lab.addHost('outside');

  /** A plaintext GET from `host` (no proxy settings), bounded: an error is what curl said. */
  const get = (host: string, url: string): Promise<Outcome> =>
    lab.execAsync(host, [...NO_PROXY_ENV, 'curl', '-sS', '-g', '--max-time', '5', '-w', '\n%{http_code}', url], 15_000).then(
      (out) => ({ answered: true as const, body: out.slice(0, out.lastIndexOf('\n')), status: out.slice(out.lastIndexOf('\n') + 1) }),
      (e: Error) => ({ answered: false as const, error: e.message }),
    );
  /** Asserts the application never answered, and the connection was refused outright (not left to time out). */
  const refused = (o: Outcome, what: string) => {
    assert.equal(o.answered, false, `${what}: the application answered in plaintext: ${o.answered ? `${o.status} ${o.body}` : ''}`);
    if (!o.answered) assert.match(o.error, /Empty reply from server|Connection reset|Recv failure|refused/, `${what}: a definite refusal`);
  };
  const failedHandshakes = () => sumCounter(payments.metrics(), 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'failed' });

  await t.test("the app answers on every port it serves from inside its own namespace (so a refusal below is the mesh's)", async () => {
    for (const port of [DECLARED, UNDECLARED, EXCLUDED]) {
      const o = await get('payments', `http://[::1]:${port}/self`);
      assert.ok(o.answered && JSON.parse(o.body).port === port, JSON.stringify(o));
    }
  });

  await t.test('IPv6 (unique local address) from another namespace: a plaintext request gets no answer from the app', async () => {
    const before = failedHandshakes();
    refused(await get('outside', `http://[${payments.host.address6}]:${DECLARED}/pay`), 'declared port over IPv6');
    refused(await get('outside', `http://[${payments.host.address6}]:${UNDECLARED}/pay`), 'undeclared port over IPv6');
    await waitFor(async () => failedHandshakes() >= before + 2, 'the sidecar counted both refused handshakes', 10_000, 100);
  });

  await t.test('IPv6 link-local from another namespace: no answer from the app either', async () => {
    const linkLocal = async (host: string): Promise<string> => {
      let found = '';
      // Link-local addresses stay "tentative" while duplicate address detection runs.
      await waitFor(
        async () => {
          const line = (await lab.execAsync(host, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).trim();
          found = line.includes('tentative') ? '' : (/inet6 (fe80::[0-9a-f:]+)\//.exec(line)?.[1] ?? '');
          return found !== '';
        },
        `a usable link-local address in ${host}`,
        20_000,
        100,
      );
      return found;
    };
    const target = await linkLocal('payments');
    await linkLocal('outside');
    refused(await get('outside', `http://[${target}%25eth0]:${DECLARED}/pay`), 'declared port over link-local IPv6');
    refused(await get('outside', `http://[${target}%25eth0]:${UNDECLARED}/pay`), 'undeclared port over link-local IPv6');
  });

  await t.test('IPv4 to a port no Service declares, under STRICT: no plaintext answer', async () => {
    refused(await get('outside', `http://${payments.host.address}:${UNDECLARED}/pay`), 'undeclared port over IPv4');
    refused(await get('outside', `http://${payments.host.address}:${DECLARED}/pay`), 'declared port over IPv4 (as before)');
  });

  await t.test('a meshed caller reaches the undeclared port through both sidecars, over mTLS', async () => {
    const okBefore = sumCounter(payments.metrics(), 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'ok' });
    const call = () => get('frontend', `http://${payments.host.address}:${UNDECLARED}/through-mesh`);
    await waitFor(async () => (await call()).answered, "a call from frontend to payments' undeclared port", 20_000, 250);
    const o = await call();
    assert.ok(o.answered && o.status === '200', JSON.stringify(o));
    const body = JSON.parse(o.body);
    assert.deepEqual({ service: body.service, port: body.port, path: body.path }, { service: 'payments', port: UNDECLARED, path: '/through-mesh' });
    assert.ok(sumCounter(payments.metrics(), 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'ok' }) > okBefore, "payments' sidecar terminated mTLS for it");
    assert.ok(
      sumCounter(frontend.metrics(), 'trellis_tcp_connections_total', { direction: 'outbound', service: 'payments.default' }) >= 1,
      "frontend's sidecar relayed it to payments",
    );
  });

  await t.test('a port the operator excluded from capture (--exclude-inbound-ports) stays plaintext, over IPv4 and IPv6', async () => {
    for (const url of [`http://${payments.host.address}:${EXCLUDED}/open`, `http://[${payments.host.address6}]:${EXCLUDED}/open`]) {
      const o = await get('outside', url);
      assert.ok(o.answered && JSON.parse(o.body).port === EXCLUDED, `${url}: ${JSON.stringify(o)}`);
    }
    // A meshed caller's proxy knows the port is excluded (the workload announces it) and does not dial it with mTLS.
    const o = await get('frontend', `http://${payments.host.address}:${EXCLUDED}/from-mesh`);
    assert.ok(o.answered && JSON.parse(o.body).port === EXCLUDED, JSON.stringify(o));
  });

  await t.test('a DENY policy cannot be bypassed over IPv6 (PERMISSIVE: plaintext is served, through the sidecar)', async () => {
    await applyResources(cp, [
      {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'no-admin', namespace: 'default' },
        spec: { targetRef: { kind: 'Service', name: 'billing' }, action: 'DENY', rules: [{ to: [{ paths: [{ prefix: '/admin' }] }] }] },
      },
    ]);
    const status = async (url: string) => {
      const o = await get('outside', url);
      return o.answered ? o.status : o.error;
    };
    await waitFor(async () => (await status(`http://${billing.host.address}:${DECLARED}/admin/x`)) === '403', "the policy to reach billing's sidecar (IPv4)", 20_000, 250);
    assert.equal(await status(`http://[${billing.host.address6}]:${DECLARED}/admin/x`), '403', 'DENY over IPv6');
    assert.equal(await status(`http://[${billing.host.address6}]:${DECLARED}/ok`), '200', 'what the policy does not deny still passes over IPv6');
    assert.ok(sumCounter(billing.metrics(), 'trellis_authz_decisions_total', { direction: 'inbound', decision: 'deny' }) >= 2);
  });

  await t.test("a DENY policy on the caller's identity holds on an undeclared port (TCP authorization after mTLS)", async () => {
    await applyResources(cp, [
      {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'no-frontend', namespace: 'default' },
        spec: { targetRef: { kind: 'Service', name: 'payments' }, action: 'DENY', rules: [{ from: [{ serviceAccounts: ['frontend'] }] }] },
      },
    ]);
    const denials = () => sumCounter(payments.metrics(), 'trellis_authz_decisions_total', { direction: 'inbound', decision: 'deny' });
    const before = denials();
    // Denied: closed before the application saw anything, and counted as a denial (not some other failure).
    await waitFor(
      async () => !(await get('frontend', `http://${payments.host.address}:${UNDECLARED}/denied`)).answered && denials() > before,
      "the policy to reach payments' sidecar and deny the call",
      20_000,
      250,
    );
    const o = await get('frontend', `http://${payments.host.address}:${UNDECLARED}/denied`);
    assert.equal(o.answered, false, JSON.stringify(o));
  });
});
