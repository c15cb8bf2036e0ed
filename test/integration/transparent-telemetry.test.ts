// Telemetry of a transparent mesh (root only): two workloads in their own network namespaces,
// whose sidecars the control plane, in the machine's namespace, cannot reach on 127.0.0.1. It
// collects their stats and tap over the admin sockets beside the xDS socket: after a known
// burst, `trellis stat` counts exactly that many requests on the edge, `trellis tap` shows a
// request of the transparent service, and the sockets are owner-only and gone once the
// workloads stop. A sampled request's spans reach the trace store through the span socket.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { trellisArgv } from '../../src/common/self.js';
import { waitFor } from '../../src/common/wait.js';
import { adminSocketBeside, otlpSocketBeside } from '../../src/xds/unix-sockets.js';
import { api, applyResources, createJoinToken, runCli } from './harness.js';
import { requireTestHosts, startCapturedWorkload, startTransparentMesh, TRANSPARENT_FIXTURES } from './transparent-harness.js';

const service = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, appProtocol: 'http' }] },
});
const HTTP_APP = ['python3', path.join(TRANSPARENT_FIXTURES, 'http-app.py')];
const BURST = 25;
/** More than two collections (every 1 s): a count that holds this long is settled. */
const SETTLE_MS = 2500;

type Edge = { source: string; destination: string; requests: number };

test('transparent mode: the control plane collects stats, tap and spans from sidecars in other network namespaces', { timeout: 240_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  const mesh = await startTransparentMesh(t, 't');
  const { lab, cp, socket } = mesh;
  await applyResources(cp, [service('frontend'), service('payments'), service('caller')]);
  const [frontend, payments] = await Promise.all([
    startCapturedWorkload(t, mesh, { host: 'frontend', service: 'frontend', port: 8080, app: HTTP_APP }),
    startCapturedWorkload(t, mesh, { host: 'payments', service: 'payments', port: 8080, app: HTTP_APP }),
  ]);
  const adminSockets = [frontend, payments].map((w) => adminSocketBeside(socket, w.host.netns));
  const curl = (args: string[]) => lab.exec('frontend', ['curl', '-sS', '--max-time', '5', ...args]);
  await waitFor(async () => curl(['http://payments.mesh:8080/warm-up']).includes('"service": "payments"'), 'a first call from frontend to payments.mesh', 20_000, 250);

  await t.test('each sidecar serves its admin on an owner-only socket and reported it', async () => {
    for (const s of adminSockets) {
      assert.ok(statSync(s).isSocket(), s);
      assert.equal(statSync(s).mode & 0o777, 0o600, s);
    }
    assert.equal(statSync(otlpSocketBeside(socket)).mode & 0o777, 0o600);
    const proxies = (await api(cp, 'GET', '/api/v1/proxies')).body.items as { service: string; adminSocket?: string }[];
    assert.deepEqual(proxies.map((p) => [p.service, p.adminSocket]).sort(), [
      ['frontend', adminSockets[0]],
      ['payments', adminSockets[1]],
    ]);
  });

  await t.test(`trellis stat counts exactly the ${BURST} requests of a burst on the frontend -> payments edge`, async () => {
    const edge = async (): Promise<number> => {
      const r = await runCli(['stat', 'edges', '-o', 'json', '-w', '600s'], cp.cliEnv);
      assert.equal(r.code, 0, r.stderr);
      const items = (JSON.parse(r.stdout) as { items: Edge[] }).items;
      return items.find((e) => e.source === 'frontend.default' && e.destination === 'payments.default')?.requests ?? 0;
    };
    // The warm-up's count, once it stops changing (bounded).
    let before = await edge();
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const now = await edge();
      if (now === before && now > 0) break;
      before = now;
    }
    assert.ok(before > 0, 'the warm-up was collected: the control plane reaches the frontend sidecar');
    const codes = curl(['-o', '/dev/null', '-w', '%{http_code}\\n', `http://payments.mesh:8080/burst/[1-${BURST}]`])
      .trim()
      .split('\n');
    assert.deepEqual(codes, Array(BURST).fill('200'));
    let after = 0;
    await waitFor(async () => (after = await edge()) === before + BURST, `the edge to count ${before} + ${BURST}`, 20_000, 500).catch((e: Error) => {
      throw new Error(`${e.message}; last count ${after}`);
    });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    assert.equal(await edge(), before + BURST, 'counted once, not again by a later collection');
  });

  await t.test('trellis tap shows a request of the transparent service', async () => {
    const [node, bin] = trellisArgv();
    const tap = spawn(node, [bin, 'tap', 'payments', '--path', '/tapped', '--max', '1', '-o', 'json'], {
      env: { ...process.env, ...cp.cliEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup(t, () => {
      if (tap.exitCode === null) tap.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    tap.stdout.on('data', (c) => (out += c));
    tap.stderr.on('data', (c) => (err += c));
    const done = new Promise<number>((resolve) => tap.on('exit', (code) => resolve(code ?? 1)));
    // The stream is open once the relay reached the proxy's socket; send until one was tapped (bounded).
    for (let i = 0; i < 40 && tap.exitCode === null; i++) {
      curl(['-o', '/dev/null', 'http://payments.mesh:8080/tapped']);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(await done, 0, err);
    const event = JSON.parse(out.trim().split('\n')[0]!) as { service: string; path: string; status: number; direction: string; proxy: string };
    assert.equal(event.service, 'payments.default');
    assert.equal(event.path, '/tapped');
    assert.equal(event.status, 200);
    assert.equal(event.direction, 'inbound');
  });

  await t.test('spans of a sidecar in another network namespace reach the trace store over the span socket', async () => {
    // An explicit-mode sidecar (its listeners trace) in a namespace of its own: the control plane's
    // TCP address is out of its reach, so a span in the store came through the socket.
    const host = lab.addHost('caller');
    const [node, bin] = trellisArgv();
    const caller = lab.spawn(
      host.name,
      [
        node,
        bin,
        'run',
        '--service',
        'caller',
        '--port',
        '8090',
        '--inbound-port',
        '15006',
        '--admin-port',
        '15020',
        '--http-proxy-port',
        '15001',
        '--upstream',
        'payments:8080=9001',
        '--xds-address',
        `unix:${socket}`,
        '--ready-timeout',
        '60000',
        '--',
        ...HTTP_APP,
      ],
      { stdio: 'ignore', env: { ...process.env, SERVICE_NAME: 'caller', TRELLIS_JOIN_TOKEN: (await createJoinToken(cp, 'caller')).token } },
    );
    cleanup(t, () => caller.kill('SIGKILL'));
    const inCaller = (args: string[]) => lab.exec(host.name, ['curl', '-sS', '--max-time', '5', ...args]);
    await waitFor(async () => inCaller(['-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:15020/ready']) === '200', "the caller's proxy ready", 60_000, 250);
    assert.throws(() => inCaller(['-o', '/dev/null', cp.apiUrl + '/healthz']), "the control plane's API is out of the namespace's reach");
    const traceId = '7'.repeat(31) + '1';
    inCaller(['-o', '/dev/null', '-H', `traceparent: 00-${traceId}-${'8'.repeat(16)}-01`, 'http://127.0.0.1:9001/traced']);
    let spans: { service: string; name: string }[] = [];
    await waitFor(
      async () => {
        const r = await api(cp, 'GET', `/api/v1/traces/${traceId}`);
        spans = r.status === 200 ? r.body.spans : [];
        return spans.length >= 2;
      },
      `trace ${traceId} in the control plane's store`,
      15_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; spans ${JSON.stringify(spans)}`);
    });
    // The caller's outbound span, and the transparent payments sidecar's inbound one, named
    // `METHOD route` (OpenTelemetry's HTTP conventions) by the route each sidecar matched.
    assert.deepEqual(spans.map((s) => [s.service, s.name]).sort(), [
      ['caller', 'GET payments.default:8080/default'],
      ['payments', 'GET inbound|8080/default'],
    ]);
    caller.kill('SIGTERM');
  });

  // Both capture listeners trace: the caller's outbound chain and the callee's inbound one.
  await t.test("a sampled request's trace reaches the control plane's trace store", async () => {
    const traceId = '5'.repeat(31) + '1';
    curl(['-o', '/dev/null', '-H', `traceparent: 00-${traceId}-${'6'.repeat(16)}-01`, 'http://payments.mesh:8080/traced']);
    let spans: { service: string }[] = [];
    await waitFor(
      async () => {
        const r = await api(cp, 'GET', `/api/v1/traces/${traceId}`);
        spans = r.status === 200 ? r.body.spans : [];
        return spans.some((s) => s.service === 'payments') && spans.some((s) => s.service === 'frontend');
      },
      `trace ${traceId} with a span of each sidecar`,
      15_000,
      500,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; spans ${JSON.stringify(spans)}`);
    });
  });

  // Stopped the way a user stops them: each proxy removes its socket on exit.
  await Promise.all([frontend.stop(), payments.stop()]);
  for (const s of adminSockets) assert.equal(existsSync(s), false, `${s} removed on exit; output ${frontend.output()}`);
});
