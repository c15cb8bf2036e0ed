// The `trellis` command as an operator meets it: help on every command, one-line errors,
// `trellis run` starting and stopping the proxy and the app together, and the demo (explicit mode, and transparent mode as root).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { freePorts } from '../../src/common/free-port.js';
import { trellisArgv } from '../../src/common/self.js';
import { httpOk, waitFor } from '../../src/common/wait.js';
import { issueCert, tlsGet, trustBundle } from './tls-helpers.js';
import { listNamespaces, run } from '../../src/netns/index.js';
import { applyResources, createJoinToken, exclusive, FIXTURES, httpService, runCli, startControlPlane, stopGroup, tcpOpen } from './harness.js';
import { requireTestHosts } from './transparent-harness.js';

const COMMANDS = ['control-plane', 'proxy', 'run', 'apply', 'get', 'delete', 'demo', 'store'];

test('every command has --help', { timeout: 60000 }, async () => {
  for (const cmd of COMMANDS) {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0, `${cmd} --help exited ${r.code}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: trellis ${cmd}`));
  }
  const top = await runCli(['--help']);
  for (const cmd of COMMANDS) assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
});

test('bad flags and failures are one clear line and a non-zero exit', { timeout: 60000 }, async () => {
  const cases: [string[], RegExp][] = [
    [['run', '--service', 'web', '--port', '3000', '--upstream', 'payments', '--', 'true'], /--upstream=payments is not valid: expected SERVICE\[\.NAMESPACE\]:PORT=LOCAL_PORT/],
    [['proxy', '--service', 'web', '--inbound', '15006'], /--inbound=15006 is not valid/],
    [['control-plane', '--api-address', 'nowhere'], /--api-address=nowhere is not valid/],
    [['no-such-command'], /unknown command 'no-such-command'/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.notEqual(r.code, 0, `trellis ${args.join(' ')} succeeded`);
    const firstLine = r.stderr.trim().split('\n')[0]!;
    assert.match(firstLine, message, `trellis ${args.join(' ')}: ${r.stderr}`);
  }
});

test('a second control plane on the same data directory is refused with the reason', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  const [api, xds] = await freePorts(2);
  const r = await runCli(['control-plane', '--data-dir', cp.dataDir, '--api-address', `127.0.0.1:${api}`, '--xds-address', `127.0.0.1:${xds}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^trellis: .*(lock|in use|another)/i);
  assert.match(r.stderr, new RegExp(cp.dataDir.replace(/[/.]/g, '\\$&')));
});

test('trellis run starts the app only once its proxy is ready, and stops both together', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web')]);
  const [appPort, adminPort, inboundPort] = await freePorts(3);
  const [node, bin] = trellisArgv();
  const run = spawn(
    node,
    [
      bin,
      'run',
      '--service',
      'web',
      '--port',
      String(appPort),
      '--admin-port',
      String(adminPort),
      '--inbound-port',
      String(inboundPort),
      '--xds-address',
      cp.xdsAddress,
      '--',
      process.execPath,
      path.join(FIXTURES, 'echo-app.mjs'),
    ],
    { detached: true, stdio: 'ignore', env: { ...process.env, SERVICE_NAME: 'web', TRELLIS_CA_FILE: cp.caFile, TRELLIS_JOIN_TOKEN: (await createJoinToken(cp, 'web')).token } },
  );
  cleanup(t, () => {
    try {
      process.kill(-run.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });
  await waitFor(() => tcpOpen(appPort!), 'the app to listen', 20000);
  assert.ok(await httpOk(`http://127.0.0.1:${adminPort}/ready`), 'the app runs before its proxy is ready');
  // mTLS traffic to the inbound port reaches the app through the proxy.
  const caller = await issueCert(path.join(cp.dataDir, 'ca'), 'spiffe://trellis.local/ns/default/sa/caller');
  const answer = await tlsGet(inboundPort!, caller, await trustBundle(cp.dataDir), '/x');
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.equal(JSON.parse(answer.body!).service, 'web');

  const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
  run.kill('SIGTERM');
  assert.equal(await exited, 0);
  await waitFor(async () => !(await tcpOpen(appPort!)) && !(await tcpOpen(adminPort!)), 'app and proxy to be gone', 10000);
});

test('trellis run exits with the app when the app exits, taking its proxy down', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  const [appPort, adminPort] = await freePorts(2);
  const r = await runCli(
    ['run', '--service', 'job', '--port', String(appPort), '--admin-port', String(adminPort), '--xds-address', cp.xdsAddress, '--', process.execPath, '-e', 'process.exit(3)'],
    { TRELLIS_CA_FILE: cp.caFile, TRELLIS_JOIN_TOKEN: (await createJoinToken(cp, 'job')).token },
  );
  assert.equal(r.code, 3, r.stderr);
  assert.equal(await tcpOpen(adminPort!), false, 'the proxy is still listening');
});

test('the demo runs five services with traffic between them and stops cleanly on SIGINT', { timeout: 420_000 }, async (t) => {
  await exclusive(t, 'demo', 240_000);
  const [apiPort, xdsPort] = await freePorts(2);
  const [node, bin] = trellisArgv();
  // Explicit mode (as root on Linux the demo would use network namespaces; see transparent-demo.test.ts).
  const demo = spawn(node, [bin, 'demo', '--explicit', '--api-port', String(apiPort), '--xds-port', String(xdsPort)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Ctrl-C lets it remove its data directory and namespaces; what does not stop in time is killed.
  cleanup(t, () => stopGroup(demo, 'SIGINT', 20_000));
  let out = '';
  demo.stdout.on('data', (c) => (out += c));
  demo.stderr.on('data', (c) => (out += c));
  await waitFor(async () => out.includes('Press Ctrl-C') || demo.exitCode !== null, 'the demo to start', 150000).catch((e: Error) => {
    throw new Error(`${e.message}; output: ${out}`);
  });
  assert.equal(demo.exitCode, null, `the demo exited during start-up; output: ${out}`);
  const proxyPort = /curl -x http:\/\/127\.0\.0\.1:(\d+) http:\/\/frontend/.exec(out)?.[1];
  assert.ok(proxyPort, out);
  const { request } = await import('node:http');
  const frontend = () =>
    new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: Number(proxyPort), path: 'http://frontend:8080/', headers: { host: 'frontend:8080' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`))));
      })
        .on('error', reject)
        .end();
    });
  // The first page crosses four sidecars on cold connections (each app allows its upstream 2 s):
  // on a loaded machine it may time out once; the mesh must serve it within 20 s.
  let page = '';
  let lastError = '';
  await waitFor(
    async () => {
      page = await frontend().catch((e: Error) => {
        lastError = e.message;
        return '';
      });
      return page !== '';
    },
    'the frontend page through the mesh',
    20000,
    500,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last answer: ${lastError}`);
  });
  const json = JSON.parse(page);
  assert.equal(json.items.length, 3);
  assert.equal(json.items[0].reviews.version, 'v1');
  const [, adminToken, caFile] = /export TRELLIS_TOKEN=(\S+) TRELLIS_CA_FILE=(\S+)/.exec(out) ?? [];
  assert.ok(adminToken && caFile, `the demo prints the admin token and the trust bundle to use: ${out}`);
  const stats = await runCli(['get', 'proxies', '-o', 'json'], { TRELLIS_CONTROL_PLANE: `https://127.0.0.1:${apiPort}`, TRELLIS_TOKEN: adminToken, TRELLIS_CA_FILE: caFile });
  assert.equal(JSON.parse(stats.stdout).items?.length ?? JSON.parse(stats.stdout).length, 6, stats.stdout);

  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  process.kill(-demo.pid!, 'SIGINT'); // what Ctrl-C in a terminal does: the whole foreground group
  assert.equal(await exited, 0, out);
  assert.match(out, /nothing left running/);
  // Nothing of the demo's process group survives.
  await waitFor(
    async () => {
      try {
        process.kill(-demo.pid!, 0);
        return false;
      } catch {
        return true;
      }
    },
    'the demo process group to be empty',
    10000,
  );
});

// In this file, not its own, so that it never runs at the same time as the demo above (both are heavy).
test('the demo in transparent mode serves the frontend by mesh name and removes its namespaces on SIGINT', { timeout: 480_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  await exclusive(t, 'demo', 240_000);
  const [apiPort, xdsPort] = await freePorts(2);
  const [node, bin] = trellisArgv();
  const demo = spawn(node, [bin, 'demo', '--api-port', String(apiPort), '--xds-port', String(xdsPort)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Ctrl-C lets it remove its data directory and namespaces; what does not stop in time is killed.
  cleanup(t, () => stopGroup(demo, 'SIGINT', 20_000));
  let out = '';
  demo.stdout.on('data', (c) => (out += c));
  demo.stderr.on('data', (c) => (out += c));
  await waitFor(async () => out.includes('Press Ctrl-C'), 'the demo to start', 180000).catch((e: Error) => {
    throw new Error(`${e.message}; output: ${out}`);
  });
  assert.match(out, /transparent mode/);
  const loadgen = /ip netns exec (\S+) curl http:\/\/frontend\.mesh:8080\//.exec(out)?.[1];
  assert.ok(loadgen, out);
  let page: { items?: { reviews: { version: string } }[] } = {};
  await waitFor(
    async () => {
      page = JSON.parse(run(['ip', 'netns', 'exec', loadgen, 'curl', '-sS', '--max-time', '3', 'http://frontend.mesh:8080/']));
      return page.items?.length === 3;
    },
    'the frontend page through the mesh',
    20000,
    500,
  );
  assert.equal(page.items![0]!.reviews.version, 'v1');
  const prefix = loadgen.replace(/-loadgen$/, '');

  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  process.kill(-demo.pid!, 'SIGINT');
  assert.equal(await exited, 0, out);
  assert.deepEqual(
    listNamespaces().filter((n) => n.startsWith(`${prefix}-`)),
    [],
    "the demo's namespaces are gone",
  );
  await waitFor(
    async () => {
      try {
        process.kill(-demo.pid!, 0);
        return false;
      } catch {
        return true;
      }
    },
    'the demo process group to be empty',
    10000,
  );
});
