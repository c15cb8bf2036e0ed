// What one sidecar's memory is: a control plane and one `trellis proxy` (inbound to a local
// nginx, and an outbound listener to its own Service, so a request crosses both sides and
// mTLS in one process), measured idle after /ready and at the end of a bounded load.
// RSS, PSS and Anonymous come from /proc/PID/smaps_rollup (Anonymous is what one more sidecar
// on a host costs: the node binary's pages are shared); V8 heap figures from a preloaded probe.
// Run by hand (not in CI):
//   npm run build && node dist/bench/sidecar-memory.js [--node PATH] [--node-flags "..."] [--env "K=V ..."] [--rounds 3] [--duration 10] [--snapshot DIR]
// `--snapshot DIR` also writes a heap snapshot of the sidecar idle and after the load (summarise
// them with dist/bench/heap-snapshot-summary.js). Needs: apt-get install nginx wrk util-linux
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trustingFetch } from '../src/common/trusting-fetch.js';
import { freePorts } from '../src/common/free-port.js';
import { SIDECAR_NODE_FLAGS, trellisArgv } from '../src/common/self.js';
import { httpOk, waitFor } from '../src/common/wait.js';
import type { MemoryProbe } from './memory-probe.js';

const flag = (name: string) => process.argv.find((a, i) => process.argv[i - 1] === `--${name}`);
const ROUNDS = Number(flag('rounds') ?? 3);
const DURATION = Number(flag('duration') ?? 10);
/** `--node PATH`: the Node.js that runs the sidecar (default: this one); the control plane runs on this one. */
const SIDECAR_NODE = flag('node') ?? process.execPath;
/** `--node-flags "..."`: Node.js/V8 flags for the sidecar after the ones it runs with (SIDECAR_NODE_FLAGS; a later value of a flag wins), to compare settings. */
const NODE_FLAGS = (flag('node-flags') ?? '').split(/\s+/).filter(Boolean);
/** `--env "K=V ..."`: environment of the sidecar, e.g. MALLOC_ARENA_MAX=2 (glibc's malloc arenas) or UV_THREADPOOL_SIZE. */
const SIDECAR_ENV = Object.fromEntries(
  (flag('env') ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const SNAPSHOT_DIR = flag('snapshot');
const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-probe.js');
const LOAD_CPU = '0';
const SERVER_CPU = os.cpus().length > 1 ? '1' : '0';

for (const tool of ['nginx', 'wrk', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench: ${tool} is not installed (apt-get install nginx wrk util-linux)`);
    process.exit(1);
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-mem-'));
const children: ChildProcess[] = [];
function start(cmd: string, args: string[], env: Record<string, string> = {}, stdout: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const child = spawn('taskset', ['-c', SERVER_CPU, cmd, ...args], { detached: true, stdio: ['ignore', stdout, 'pipe'], env: { ...process.env, ...env } });
  child.stderr!.on('data', (c) => process.stderr.write(`[${path.basename(cmd)}] ${c}`));
  children.push(child);
  return child;
}
function stop(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
process.on('exit', () => {
  children.forEach(stop);
  rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

interface Sample {
  rss: number;
  pss: number;
  anon: number;
  heapUsed: number;
  heapTotal: number;
  newSpace: number;
  external: number;
  code: number;
}

/** CPU time (user + system) of `pid` so far, µs. */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

function smaps(pid: number): { rss: number; pss: number; anon: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const mb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)![1]) / 1024;
  return { rss: mb('Rss'), pss: mb('Pss'), anon: mb('Anonymous') };
}

/** /proc figures and the probe's V8 figures of `pid`, taken together. */
async function sample(pid: number): Promise<Sample> {
  const file = path.join(dir, `${pid}.json`);
  rmSync(file, { force: true });
  const proc = smaps(pid);
  process.kill(pid, 'SIGURG');
  await waitFor(async () => existsSync(file), 'the memory probe', 10000, 20);
  const probe = JSON.parse(readFileSync(file, 'utf8')) as MemoryProbe;
  const mb = (n: number) => n / 1048576;
  return {
    ...proc,
    heapUsed: mb(probe.usage.heapUsed),
    heapTotal: mb(probe.usage.heapTotal),
    newSpace: mb(probe.spaces.new_space?.size ?? 0),
    external: mb(probe.usage.external),
    code: mb(probe.spaces.code_space?.size ?? 0),
  };
}

/** Writes a heap snapshot of `pid` (started with --heapsnapshot-signal=SIGUSR2) under `name`. */
async function snapshot(pid: number, name: string): Promise<void> {
  const before = new Set(readdirSync(SNAPSHOT_DIR!));
  process.kill(pid, 'SIGUSR2');
  let file = '';
  let size = -1;
  await waitFor(
    async () => {
      file = readdirSync(SNAPSHOT_DIR!).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)) ?? '';
      if (!file) return false;
      const now = statSync(path.join(SNAPSHOT_DIR!, file)).size;
      const whole = now === size && now > 0;
      size = now;
      return whole;
    },
    'the heap snapshot',
    60000,
    500,
  );
  spawnSync('mv', [path.join(SNAPSHOT_DIR!, file), path.join(SNAPSHOT_DIR!, `${name}.heapsnapshot`)]);
}

function wrk(url: string, seconds: number): number {
  const out = spawnSync('taskset', ['-c', LOAD_CPU, 'wrk', '-t1', '-c32', `-d${seconds}s`, url], { encoding: 'utf8' }).stdout;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk printed no rate for ${url}:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return Number(rps[1]);
}

/** A control plane with the Service the sidecar serves, and a join token for it. */
async function controlPlane(): Promise<{ xds: string; caFile: string; joinToken: string }> {
  const [apiPort, xdsPort] = await freePorts(2);
  const [node, bin] = trellisArgv();
  const cpDir = path.join(dir, 'cp');
  const cp = start(node, [bin, 'control-plane', '--data-dir', cpDir, '--api-address', `127.0.0.1:${apiPort}`, '--xds-address', `127.0.0.1:${xdsPort}`], {}, 'pipe');
  let out = '';
  cp.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await waitFor(async () => /admin token[^:]*: \S+/.test(out), 'the control plane and its admin token', 30000);
  const caFile = path.join(cpDir, 'ca', 'trust-bundle.pem');
  const fetch = trustingFetch(caFile);
  const api = `https://127.0.0.1:${apiPort}`;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${/admin token[^:]*: (\S+)/.exec(out)![1]}` };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'bench-server' },
    spec: { selector: { app: 'bench-server' }, ports: [{ name: 'http', port: 8080, appProtocol: 'http' }] },
  };
  const applied = await fetch(`${api}/api/v1/apply`, { method: 'POST', headers, body: JSON.stringify({ resources: [service] }) });
  if (applied.status !== 200) throw new Error(await applied.text());
  const token = await fetch(`${api}/api/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ role: 'join', service: 'bench-server' }) });
  return { xds: `127.0.0.1:${xdsPort}`, caFile, joinToken: ((await token.json()) as { token: string }).token };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const [nginxPort] = await freePorts(1);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:${nginxPort}; location / { default_type text/plain; return 200 "${'x'.repeat(99)}\\n"; } } }`,
  );
  start('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir]);
  const cp = await controlPlane();
  if (SNAPSHOT_DIR) mkdirSync(SNAPSHOT_DIR, { recursive: true });
  const [, bin] = trellisArgv();
  const idle: Sample[] = [];
  const loaded: Sample[] = [];
  const rates: number[] = [];
  const cpuPerRequest: number[] = [];
  let version = '';
  for (let round = 1; round <= ROUNDS; round++) {
    const [inbound, local, admin] = await freePorts(3);
    const flags = [...SIDECAR_NODE_FLAGS, ...NODE_FLAGS, '--import', PROBE, ...(SNAPSHOT_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAPSHOT_DIR}`] : [])];
    const proxy = start(
      SIDECAR_NODE,
      [
        ...flags,
        bin,
        'proxy',
        '--service',
        'bench-server',
        '--label',
        'app=bench-server',
        '--inbound',
        `${inbound}:${nginxPort}`,
        '--upstream',
        `bench-server:8080=${local}`,
        '--admin-port',
        String(admin),
        '--xds-address',
        cp.xds,
      ],
      { TRELLIS_CA_FILE: cp.caFile, TRELLIS_JOIN_TOKEN: cp.joinToken, MEMORY_PROBE_DIR: dir, ...SIDECAR_ENV },
    );
    const url = `http://127.0.0.1:${local}/`;
    await waitFor(() => httpOk(`http://127.0.0.1:${admin}/ready`), 'the sidecar /ready', 30000);
    await waitFor(() => httpOk(url), 'a request through the sidecar', 30000);
    version = spawnSync(SIDECAR_NODE, ['-v'], { encoding: 'utf8' }).stdout.trim();
    // Idle: a few seconds after the first config, as a sidecar beside a quiet workload.
    await new Promise((r) => setTimeout(r, 3000));
    idle.push(await sample(proxy.pid!));
    if (SNAPSHOT_DIR && round === 1) await snapshot(proxy.pid!, 'idle');
    const cpuBefore = cpuUs(proxy.pid!);
    rates.push(wrk(url, DURATION));
    // Per request through both of its sides: a setting that saves memory must not cost CPU.
    cpuPerRequest.push((cpuUs(proxy.pid!) - cpuBefore) / (rates.at(-1)! * DURATION));
    loaded.push(await sample(proxy.pid!));
    if (SNAPSHOT_DIR && round === 1) await snapshot(proxy.pid!, 'loaded');
    stop(proxy);
    console.error(`round ${round}: idle ${idle.at(-1)!.rss.toFixed(1)} MB RSS, after ${rates.at(-1)!.toFixed(0)} req/s ${loaded.at(-1)!.rss.toFixed(1)} MB RSS`);
  }
  const env = Object.entries(SIDECAR_ENV)
    .map(([k, v]) => `${k}=${v} `)
    .join('');
  console.log(
    `\nsidecar on ${env}node ${version} ${[...SIDECAR_NODE_FLAGS, ...NODE_FLAGS].join(' ')}; ${ROUNDS} rounds, medians; load: wrk -t1 -c32 -d${DURATION}s through its outbound and inbound listeners (mTLS)\n`,
  );
  console.log('| state | RSS MB | PSS MB | Anonymous MB | V8 heap used MB | V8 heap total MB | new space MB | external MB | code space MB | req/s | CPU µs/req |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, xs] of [
    ['idle', idle],
    ['after load', loaded],
  ] as const) {
    const m = (k: keyof Sample) => median(xs.map((x) => x[k])).toFixed(1);
    console.log(
      `| ${name} | ${m('rss')} | ${m('pss')} | ${m('anon')} | ${m('heapUsed')} | ${m('heapTotal')} | ${m('newSpace')} | ${m('external')} | ${m('code')} | ${name === 'idle' ? '– | –' : `${median(rates).toFixed(0)} | ${median(cpuPerRequest).toFixed(0)}`} |`,
    );
  }
  if (SNAPSHOT_DIR) console.log(`\nheap snapshots (round 1): ${path.resolve(SNAPSHOT_DIR)}/{idle,loaded}.heapsnapshot`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
