// `trellis demo`: a whole sample mesh on this machine — the control plane on a fresh
// embedded store, five services (Node.js and Python) each with its sidecar, and a steady
// trickle of traffic. Ctrl-C stops everything and removes what it made.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { parseYamlDocuments } from '../../api/load-yaml.js';
import { formatProblem } from '../../api/problem.js';
import { exited, stopChild } from '../../common/child-process.js';
import { freePorts } from '../../common/free-port.js';
import { PROJECT_ROOT, trellisArgv } from '../../common/self.js';
import { tcpOpen, waitFor } from '../../common/wait.js';
import { CA_FILE_ENV } from '../../common/control-plane-trust.js';
import { trustingFetch } from '../../common/trusting-fetch.js';
import { TRUST_BUNDLE_FILE } from '../../control-plane/index.js';
import { DEFAULT_CONTROL_PLANE } from '../api-client.js';
import { canManageNamespaces, HostLab } from '../../netns/index.js';

const DEMO_DIR = path.join(PROJECT_ROOT, 'examples/demo');
const APPS = path.join(DEMO_DIR, 'apps');

interface DemoWorkload {
  service: string;
  version?: string;
  app: string[];
  upstreams: string[];
  env?: Record<string, string>;
  /** Transparent mode: plain URLs by mesh name instead of local upstream ports. */
  urls?: Record<string, string>;
}

/** The sample application (see examples/demo/mesh.yaml for its Services and routes). */
const WORKLOADS: DemoWorkload[] = [
  { service: 'ratings', app: ['python3', path.join(APPS, 'ratings.py')], upstreams: [] },
  { service: 'catalog', app: ['python3', path.join(APPS, 'catalog.py')], upstreams: [], urls: { RATINGS_URL: 'http://ratings.mesh:8080/ratings' } },
  { service: 'reviews', version: 'v1', app: [process.execPath, path.join(APPS, 'reviews.mjs')], upstreams: [], env: { VERSION: 'v1' } },
  {
    service: 'reviews',
    version: 'v2',
    app: [process.execPath, path.join(APPS, 'reviews.mjs')],
    upstreams: ['ratings:8080'],
    env: { VERSION: 'v2' },
    urls: { RATINGS_URL: 'http://ratings.mesh:8080/ratings' },
  },
  {
    service: 'frontend',
    app: [process.execPath, path.join(APPS, 'frontend.mjs')],
    upstreams: ['catalog:8080', 'reviews:8080'],
    urls: { CATALOG_URL: 'http://catalog.mesh:8080', REVIEWS_URL: 'http://reviews.mesh:8080' },
  },
  { service: 'loadgen', app: [process.execPath, path.join(APPS, 'loadgen.mjs')], upstreams: ['frontend:8080'], urls: { FRONTEND_URL: 'http://frontend.mesh:8080/' } },
];

interface DemoOptions {
  apiPort: number;
  xdsPort: number;
  dataDir?: string;
  explicit?: boolean;
}

interface Running {
  name: string;
  child: ChildProcess;
  appPort?: number;
  adminPort?: number;
  httpProxyPort?: number;
  upstreamPorts?: Record<string, number>;
  host?: string;
  address?: string;
}

/** Transparent mode: each sidecar's admin port, on 127.0.0.1 inside its namespace. */
const DEMO_ADMIN_PORT = 15020;

/** Transparent mode: each workload in its own test host (network namespace), its app calling the others by mesh name. */
async function startTransparentWorkloads(
  lab: HostLab,
  workloads: DemoWorkload[],
  xdsSocket: string,
  running: Running[],
  joinToken: (service: string) => Promise<string>,
): Promise<void> {
  const [node, bin] = trellisArgv();
  for (const w of workloads) {
    const name = w.version ? `${w.service}-${w.version}` : w.service;
    const host = lab.addHost(name.replace(/[^a-z0-9]/g, ''));
    // Straight into the namespace (what `trellis run --transparent --netns` does first): the lab removes the namespace, rules and all, at the end.
    const child = lab.spawn(
      host.name,
      [
        node,
        bin,
        'run',
        '--transparent',
        '--in-netns',
        '--netns',
        host.netns,
        '--service',
        w.service,
        '--port',
        '8080',
        '--label',
        `version=${w.version ?? 'v1'}`,
        '--admin-port',
        String(DEMO_ADMIN_PORT),
        '--xds-address',
        `unix:${xdsSocket}`,
        '--ready-timeout',
        '120000',
        '--',
        ...w.app,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...w.env, ...w.urls, TRELLIS_JOIN_TOKEN: await joinToken(w.service) } },
    );
    running.push({ name, child, host: host.name, address: host.address });
  }
  const listening = async (host: string) => (await lab.execAsync(host, ['ss', '-Htln', 'sport = :8080'])).trim().length > 0;
  await Promise.all(running.filter((r) => r.host).map((r) => waitFor(() => listening(r.host!), `${r.name} to listen on 8080 in its namespace`, 150000, 500)));
}

function printTransparentTour(lab: HostLab, running: Running[], apiUrl: string, token: string, caFile: string, log: (line: string) => void): void {
  log('\nworkload        network namespace          address        sidecar admin (inside the namespace)');
  for (const r of running.filter((x) => x.host))
    log(`${r.name.padEnd(15)} ${lab.host(r.host!).netns.padEnd(26)} ${r.address!.padEnd(14)} http://127.0.0.1:${DEMO_ADMIN_PORT}/metrics`);
  const env = apiUrl === DEFAULT_CONTROL_PLANE ? '' : `TRELLIS_CONTROL_PLANE=${apiUrl} `;
  const loadgen = lab.host('loadgen').netns;
  log(`
The demo mesh is running in transparent mode: every workload in its own network namespace,
its TCP and DNS captured by iptables; the apps call http://catalog.mesh:8080/ and so on.
Try, in another terminal (as root):
  export TRELLIS_TOKEN=${token} TRELLIS_CA_FILE=${caFile}
  ${env}node bin/trellis.js get proxies
  ip netns exec ${loadgen} curl http://frontend.mesh:8080/
  ip netns exec ${loadgen} getent hosts reviews.mesh
  ${env}node bin/trellis.js apply -f examples/demo/reviews-canary.yaml     # 20% of reviews to v2
  ip netns exec ${loadgen} curl -s http://127.0.0.1:${DEMO_ADMIN_PORT}/metrics | grep trellis_requests_total
  node bin/trellis.js capture list --netns ${loadgen}
Press Ctrl-C to stop everything (namespaces and rules are removed).`);
}

async function stopAll(running: Running[]): Promise<void> {
  // Workloads first (each `trellis run` stops its app, then its proxy), the control plane last.
  for (const group of [running.filter((r) => r.name !== 'control-plane'), running.filter((r) => r.name === 'control-plane')]) {
    for (const r of group) stopChild(r.child);
    const timer = setTimeout(() => group.forEach((r) => stopChild(r.child, 'SIGKILL')), 5000);
    await Promise.all(group.map((r) => exited(r.child)));
    clearTimeout(timer);
  }
}

async function applyDemoResources(apiUrl: string, token: string, caFile: string): Promise<void> {
  const file = path.join(DEMO_DIR, 'mesh.yaml');
  const parsed = parseYamlDocuments(readFileSync(file, 'utf8'), file);
  if (!parsed.ok) throw new Error(`the demo's own ${file} is invalid: ${parsed.error.map(formatProblem).join('; ')}`);
  const res = await trustingFetch(caFile)(`${apiUrl}/api/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ resources: parsed.value }),
  });
  if (res.status !== 200) throw new Error(`applying ${file} failed: ${await res.text()}`);
}

export async function runDemo(opts: DemoOptions, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'trellis-demo-'));
  const removeDataDir = opts.dataDir === undefined;
  const [node, bin] = trellisArgv();
  const running: Running[] = [];
  const apiUrl = `https://127.0.0.1:${opts.apiPort}`;
  const caFile = path.join(dataDir, 'ca', TRUST_BUNDLE_FILE);
  const xdsAddress = `127.0.0.1:${opts.xdsPort}`;
  let interrupted = false;
  let lab: HostLab | undefined;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      interrupted = true;
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    if (await tcpOpen(opts.apiPort)) {
      throw new Error(`something already answers at ${apiUrl} (another control plane or demo?); stop it or use --api-port`);
    }
    const transparent = !opts.explicit && canManageNamespaces().ok;
    const xdsSocket = path.join(dataDir, 'xds.sock');
    const cp = spawn(
      node,
      [bin, 'control-plane', '--data-dir', dataDir, '--api-address', `127.0.0.1:${opts.apiPort}`, '--xds-address', xdsAddress, ...(transparent ? ['--xds-socket', xdsSocket] : [])],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    running.push({ name: 'control-plane', child: cp });
    let cpOut = '';
    cp.stdout.on('data', (c: Buffer) => {
      cpOut += c.toString();
    });
    await Promise.race([
      waitFor(async () => cpOut.includes('control plane ready'), 'the control plane to report ready', 20000),
      exited(cp).then(() => {
        throw new Error('the control plane exited during start-up (see the message above)');
      }),
    ]);
    // A fresh data dir prints the admin token once; a kept one needs it from the environment.
    const token = /admin token[^:]*: (\S+)/.exec(cpOut)?.[1] ?? process.env.TRELLIS_TOKEN;
    if (!token) throw new Error(`the data dir ${dataDir} was used before: set TRELLIS_TOKEN to the admin token it printed at its first start`);
    log(`control plane   api ${apiUrl}   xDS ${xdsAddress}   data ${dataDir}`);
    await applyDemoResources(apiUrl, token, caFile);
    if (transparent) {
      lab = HostLab.create({ tag: 'd' });
      await startTransparentWorkloads(lab, WORKLOADS, xdsSocket, running, (service) => joinToken(apiUrl, token, caFile, service));
      printTransparentTour(lab, running, apiUrl, token, caFile, log);
      await Promise.race([
        stopped,
        ...running.map((r) =>
          exited(r.child).then(() => {
            if (!interrupted) throw new Error(`${r.name} exited unexpectedly`);
          }),
        ),
      ]);
      log('\nstopping the demo ...');
      return 0;
    }

    for (const w of WORKLOADS) {
      const [appPort, adminPort, httpProxyPort, ...locals] = await freePorts(3 + w.upstreams.length);
      const upstreamPorts: Record<string, number> = {};
      w.upstreams.forEach((u, i) => (upstreamPorts[u] = locals[i]!));
      const child = spawn(
        node,
        [
          bin,
          'run',
          '--service',
          w.service,
          '--port',
          String(appPort),
          '--label',
          `version=${w.version ?? 'v1'}`,
          '--admin-port',
          String(adminPort),
          '--http-proxy-port',
          String(httpProxyPort),
          '--xds-address',
          xdsAddress,
          '--ready-timeout',
          '120000',
          ...w.upstreams.flatMap((u) => ['--upstream', `${u}=${upstreamPorts[u]}`]),
          '--',
          ...w.app,
        ],
        {
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { ...process.env, ...w.env, [CA_FILE_ENV]: caFile, TRELLIS_JOIN_TOKEN: await joinToken(apiUrl, token, caFile, w.service) },
        },
      );
      const name = w.version ? `${w.service}-${w.version}` : w.service;
      running.push({ name, child, appPort, adminPort, httpProxyPort, upstreamPorts });
    }
    // `trellis run` starts each app once its sidecar is ready; the mesh is up when every app listens.
    await Promise.all(running.filter((r) => r.appPort).map((r) => waitFor(() => tcpOpen(r.appPort!), `${r.name} to listen on ${r.appPort}`, 150000, 250)));
    printTour(running, apiUrl, token, caFile, log);
    await Promise.race([
      stopped,
      ...running.map((r) =>
        exited(r.child).then(() => {
          if (!interrupted) throw new Error(`${r.name} exited unexpectedly`);
        }),
      ),
    ]);
    log('\nstopping the demo ...');
    return 0;
  } finally {
    await stopAll(running);
    lab?.destroy();
    if (removeDataDir) rmSync(dataDir, { recursive: true, force: true });
    if (interrupted) log('demo stopped; nothing left running');
  }
}

/** A join token for one demo service. */
async function joinToken(apiUrl: string, token: string, caFile: string, service: string): Promise<string> {
  const res = await trustingFetch(caFile)(`${apiUrl}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ role: 'join', service }),
  });
  const body = (await res.json()) as { token?: string; error?: { message: string } };
  if (!body.token) throw new Error(`could not create a join token for ${service}: ${body.error?.message ?? res.status}`);
  return body.token;
}

function printTour(running: Running[], apiUrl: string, token: string, caFile: string, log: (line: string) => void): void {
  log('\nworkload        sidecar admin                    HTTP proxy (HTTP_PROXY)');
  for (const r of running.filter((x) => x.adminPort)) {
    log(`${r.name.padEnd(15)} ${`http://127.0.0.1:${r.adminPort}/metrics`.padEnd(32)} http://127.0.0.1:${r.httpProxyPort}`);
  }
  const loadgen = running.find((r) => r.name === 'loadgen')!;
  const env = apiUrl === DEFAULT_CONTROL_PLANE ? '' : `TRELLIS_CONTROL_PLANE=${apiUrl} `;
  log(`
The demo mesh is running, mutual TLS between every sidecar; loadgen sends a few requests a second to frontend.
Open the dashboard: ${apiUrl}/dashboard/?token=${token}
  (its certificate comes from the mesh CA: trust ${caFile} in your browser, or accept the warning)
Try, in another terminal:
  export TRELLIS_TOKEN=${token} TRELLIS_CA_FILE=${caFile}
  ${env}node bin/trellis.js get services
  ${env}node bin/trellis.js get proxies
  curl -x http://127.0.0.1:${loadgen.httpProxyPort} http://frontend:8080/
  curl -x http://127.0.0.1:${loadgen.httpProxyPort} -H 'x-tester: yes' http://reviews:8080/reviews/1
  ${env}node bin/trellis.js apply -f examples/demo/reviews-canary.yaml     # 20% of reviews to v2
  curl http://127.0.0.1:${loadgen.adminPort}/metrics | grep trellis_requests_total
  ${env}node bin/trellis.js stat                 # golden signals per service (also: stat workloads, stat edges)
  ${env}node bin/trellis.js tap reviews          # live requests through reviews' sidecars
  ${env}node bin/trellis.js check                # is the mesh healthy?
Press Ctrl-C to stop everything.`);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'start a sample mesh on this machine: control plane, five services with sidecars, and traffic (as root on Linux each in its own network namespace, transparently captured)',
    )
    .option('--api-port <port>', 'control plane REST API port', Number, 15000)
    .option('--xds-port <port>', 'control plane xDS port', Number, 15010)
    .option('--data-dir <dir>', 'keep the store in this directory (default: a temporary one, removed at exit)')
    .option('--explicit', 'explicit mode even as root on Linux (local upstream ports and HTTP_PROXY instead of network namespaces with iptables capture)')
    .action(async (opts: DemoOptions) => {
      process.exitCode = await runDemo(opts);
    });
}
