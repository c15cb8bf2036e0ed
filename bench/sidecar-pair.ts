// What a pair of sidecars costs: the same small HTTP request direct to nginx, through an
// HAProxy pair with mTLS between them (the reference of PERFORMANCE.md; ECDSA P-256,
// `verify required` both ways), the same pair in plaintext, and through two Trellis
// sidecars (mTLS), side by side in one run.
// Throughput with wrk, latency percentiles at a fixed rate with h2load, memory and CPU per
// proxy from /proc. Run by hand (not in CI):
//   npm run build && node dist/bench/sidecar-pair.js [--duration 10] [--rounds 3] [--rate 1000] [--profile DIR] [--node-flags "..."] [--baseline CHECKOUT]
// `--baseline CHECKOUT` adds a second Trellis pair (its own control plane too) run from another
// built checkout (e.g. a `git worktree` of the previous commit), interleaved in the same rounds,
// so a change is measured before and after on the same machine at the same time.
// Needs: apt-get install nginx haproxy wrk nghttp2-client util-linux openssl
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trustingFetch } from '../src/common/trusting-fetch.js';
import { freePorts } from '../src/common/free-port.js';
import { SIDECAR_NODE_FLAGS, trellisArgv } from '../src/common/self.js';
import { httpOk, waitFor } from '../src/common/wait.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a, i) => process.argv[i - 1] === `--${name}`) ?? fallback);
const DURATION = arg('duration', 10);
const ROUNDS = arg('rounds', 3);
const RATE = arg('rate', 1000);
/** `--profile DIR`: the Trellis sidecars write V8 CPU profiles there (on a clean stop at the end). */
const PROFILE_DIR = process.argv.find((a, i) => process.argv[i - 1] === '--profile');
/** `--node-flags "..."`: Node.js/V8 flags for the Trellis sidecars after the ones they run with (SIDECAR_NODE_FLAGS; a later value of a flag wins), to compare settings. */
const NODE_FLAGS = process.argv.find((a, i) => process.argv[i - 1] === '--node-flags');
/** `--baseline CHECKOUT`: another built Trellis checkout whose pair runs beside this one. */
const BASELINE = process.argv.find((a, i) => process.argv[i - 1] === '--baseline');
const BODY = 'x'.repeat(99) + '\n'; // 100 bytes, as in PERFORMANCE.md
const LOAD_CPU = '0';
const SERVER_CPU = os.cpus().length > 1 ? '1' : '0';

for (const tool of ['nginx', 'haproxy', 'wrk', 'h2load', 'taskset', 'openssl']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench: ${tool} is not installed (apt-get install nginx haproxy wrk nghttp2-client util-linux openssl)`);
    process.exit(1);
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-bench-'));
const children: ChildProcess[] = [];
function start(cmd: string, args: string[], cpu = SERVER_CPU, env: Record<string, string> = {}, stdout: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  // Own process group, so that cleanup also reaches what it forks (nginx's workers).
  const child = spawn('taskset', ['-c', cpu, cmd, ...args], { detached: true, stdio: ['ignore', stdout, 'pipe'], env: { ...process.env, ...env } });
  child.stderr!.on('data', (c) => process.stderr.write(`[${path.basename(cmd)}] ${c}`));
  children.push(child);
  return child;
}
function cleanup(): void {
  for (const c of children) {
    try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

/** Per-process CPU time (µs) and resident memory (MB) from /proc. */
function procStats(pid: number): { cpuUs: number; rssMb: number; pssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  // PSS splits pages shared with other processes (the node binary, shared libraries) between them.
  const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? '0';
  return { cpuUs: (ticks * 1e6) / 100, rssMb: Number(rss) / 1024, pssMb: Number(pss) / 1024 };
}

function wrk(url: string, seconds = DURATION): number {
  const out = spawnSync('taskset', ['-c', LOAD_CPU, 'wrk', '-t1', '-c32', `-d${seconds}s`, url], { encoding: 'utf8' }).stdout;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk printed no rate for ${url}:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return Number(rps[1]);
}

function latency(url: string): { p50: number; p90: number; p99: number } {
  const log = path.join(dir, 'lat.tsv');
  rmSync(log, { force: true }); // h2load appends to an existing log
  const clients = 10;
  const total = RATE * (DURATION + 1);
  spawnSync('taskset', ['-c', LOAD_CPU, 'h2load', '--h1', '-c', String(clients), '--rps', String(RATE / clients), '-n', String(total), '-r', '1', '--rate-period', '1ms', '--log-file', log, url], { encoding: 'utf8' });
  const rows = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
  // A loop, not Math.min(...rows): a spread of every row overflows the stack on long runs.
  let t0 = Infinity;
  for (const r of rows) if (r[0]! < t0) t0 = r[0]!;
  const kept = rows.filter((r) => r[0]! - t0 >= 1e6 && r[1] === 200).map((r) => r[2]!).sort((a, b) => a - b); // drop the first second
  const q = (p: number) => kept[Math.min(kept.length - 1, Math.floor((p / 100) * kept.length))]!;
  return { p50: q(50), p90: q(90), p99: q(99) };
}

/** A P-256 CA and two certificates it signed (PEM with key, as HAProxy's `crt` wants), for the HAProxy mTLS pair. */
function haproxyCerts(): { ca: string; a: string; b: string } {
  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bench-ca');
  for (const name of ['a', 'b']) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=ha-${name}`);
    writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=URI:spiffe://bench/ha-${name},IP:127.0.0.1\n`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    writeFileSync(path.join(dir, `${name}.pem`), readFileSync(path.join(dir, `${name}.crt`), 'utf8') + readFileSync(path.join(dir, `${name}.key`), 'utf8'));
  }
  return { ca: path.join(dir, 'ca.pem'), a: path.join(dir, 'a.pem'), b: path.join(dir, 'b.pem') };
}

/** Two HAProxy processes (one per sidecar, each one thread): `front` takes the client, forwards to `back`, which forwards to nginx; `tls` puts mTLS between them. */
function haproxyPair(name: string, front: number, back: number, nginxPort: number, tls?: { ca: string; a: string; b: string }): ChildProcess[] {
  const defaults = `global
  nbthread 1
  ssl-default-bind-options ssl-min-ver TLSv1.2
  ssl-default-server-options ssl-min-ver TLSv1.2
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
`;
  const serverTls = tls ? ` ssl crt ${tls.a} ca-file ${tls.ca} verify required` : '';
  const bindTls = tls ? ` ssl crt ${tls.b} ca-file ${tls.ca} verify required` : '';
  writeFileSync(path.join(dir, `${name}-a.cfg`), `${defaults}frontend a\n  bind 127.0.0.1:${front}\n  default_backend to_b\nbackend to_b\n  server b 127.0.0.1:${back}${serverTls}\n`);
  writeFileSync(path.join(dir, `${name}-b.cfg`), `${defaults}frontend b\n  bind 127.0.0.1:${back}${bindTls}\n  default_backend app\nbackend app\n  server app 127.0.0.1:${nginxPort}\n`);
  return [start('haproxy', ['-f', path.join(dir, `${name}-a.cfg`)]), start('haproxy', ['-f', path.join(dir, `${name}-b.cfg`)])];
}

/** A control plane and two sidecars (mTLS between them) run from the checkout of `bin`; A's local upstream port leads through B to nginx. */
async function trellisPair(label: string, bin: string, nginxPort: number): Promise<{ url: string; procs: ChildProcess[] }> {
  const [apiPort, xdsPort, inB, inA, appA, localA, adminA, adminB, hpA, hpB] = await freePorts(10);
  const node = process.execPath;
  const cpDir = path.join(dir, `cp-${label}`);
  const cp = start(node, [bin, 'control-plane', '--data-dir', cpDir, '--api-address', `127.0.0.1:${apiPort}`, '--xds-address', `127.0.0.1:${xdsPort}`], LOAD_CPU, {}, 'pipe');
  let cpOut = '';
  cp.stdout!.on('data', (c: Buffer) => { cpOut += c.toString(); });
  const api = `https://127.0.0.1:${apiPort}`;
  // The API and xDS are TLS: the bench trusts the mesh roots the control plane writes.
  const caFile = path.join(cpDir, 'ca', 'trust-bundle.pem');
  await waitFor(async () => cpOut.includes('control plane ready'), `${label} control plane`, 20000);
  await waitFor(async () => /admin token[^:]*: \S+/.test(cpOut), 'the admin token', 5000);
  const fetch = trustingFetch(caFile);
  const auth = { authorization: `Bearer ${/admin token[^:]*: (\S+)/.exec(cpOut)![1]}` };
  // Security is on as in production: each proxy joins with a token and the pair talks mTLS.
  const joinToken = async (service: string): Promise<string> => {
    const r = await fetch(`${api}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ role: 'join', service }) });
    return ((await r.json()) as { token: string }).token;
  };
  const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, appProtocol: 'http' }] } });
  const applied = await fetch(`${api}/api/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ resources: [svc('bench-server'), svc('bench-client')] }) });
  if (applied.status !== 200) throw new Error(await applied.text());
  const xds = `127.0.0.1:${xdsPort}`;
  const nodeFlags = [...SIDECAR_NODE_FLAGS, ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE_DIR, label)}`] : []), ...(NODE_FLAGS ? NODE_FLAGS.split(/\s+/).filter(Boolean) : [])];
  const proxyB = start(node, [...nodeFlags, bin, 'proxy', '--service', 'bench-server', '--inbound', `${inB}:${nginxPort}`, '--admin-port', String(adminB), '--http-proxy-port', String(hpB), '--xds-address', xds], SERVER_CPU, { TRELLIS_CA_FILE: caFile, TRELLIS_JOIN_TOKEN: await joinToken('bench-server') });
  const proxyA = start(node, [...nodeFlags, bin, 'proxy', '--service', 'bench-client', '--inbound', `${inA}:${appA}`, '--admin-port', String(adminA), '--http-proxy-port', String(hpA), '--xds-address', xds, '--upstream', `bench-server:8080=${localA}`], SERVER_CPU, { TRELLIS_CA_FILE: caFile, TRELLIS_JOIN_TOKEN: await joinToken('bench-client') });
  await waitFor(() => httpOk(`http://127.0.0.1:${adminA}/ready`), `${label} proxy A`, 20000);
  await waitFor(() => httpOk(`http://127.0.0.1:${adminB}/ready`), `${label} proxy B`, 20000);
  return { url: `http://127.0.0.1:${localA}/`, procs: [proxyA, proxyB] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const [nginxPort, haFront, haBack, haTlsFront, haTlsBack] = await freePorts(5);
  writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:${nginxPort}; location / { default_type text/plain; return 200 "${BODY.trim()}\\n"; } } }`);
  start('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir]);
  // One HAProxy process holding both ends of a pair would share a core's work; each pair runs two.
  const haPlain = haproxyPair('ha-plain', haFront, haBack, nginxPort);
  const haTls = haproxyPair('ha-tls', haTlsFront, haTlsBack, nginxPort, haproxyCerts());

  const [, bin] = trellisArgv();
  const current = await trellisPair('current', bin, nginxPort);
  const baseline = BASELINE ? await trellisPair('baseline', path.resolve(BASELINE, 'bin/trellis.js'), nginxPort) : undefined;

  const paths = [
    { name: 'direct to nginx', url: `http://127.0.0.1:${nginxPort}/`, procs: [] as ChildProcess[] },
    { name: 'HAProxy pair (mTLS)', url: `http://127.0.0.1:${haTlsFront}/`, procs: haTls },
    { name: 'HAProxy pair (plaintext)', url: `http://127.0.0.1:${haFront}/`, procs: haPlain },
    { name: 'Trellis sidecar pair (mTLS)', url: current.url, procs: current.procs },
    ...(baseline ? [{ name: `Trellis pair, baseline ${path.basename(path.resolve(BASELINE!))} (mTLS)`, url: baseline.url, procs: baseline.procs }] : []),
  ];
  for (const p of paths) await waitFor(() => httpOk(p.url), p.name, 20000);
  // Warm-up, not recorded: the first seconds of load through a Node.js proxy run before the JIT
  // has optimized its hot path (a first round measured ~40% below the following ones).
  for (const p of paths) wrk(p.url, 5);
  const results = new Map(paths.map((p) => [p.name, { rps: [] as number[], p50: [] as number[], p90: [] as number[], p99: [] as number[], rss: [] as number[], pss: [] as number[], cpu: [] as number[] }]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const p of paths) {
      const r = results.get(p.name)!;
      const before = p.procs.map((c) => procStats(c.pid!));
      const rps = wrk(p.url);
      const after = p.procs.map((c) => procStats(c.pid!));
      r.rps.push(rps);
      if (p.procs.length) {
        r.rss.push(Math.max(...after.map((a) => a.rssMb)));
        r.pss.push(Math.max(...after.map((a) => a.pssMb)));
        r.cpu.push(Math.max(...after.map((a, i) => (a.cpuUs - before[i]!.cpuUs) / (rps * DURATION))));
      }
      const lat = latency(p.url);
      r.p50.push(lat.p50); r.p90.push(lat.p90); r.p99.push(lat.p99);
      console.error(`round ${round} ${p.name}: ${rps.toFixed(0)} req/s, p99 ${lat.p99} µs`);
    }
  }
  const direct = results.get(paths[0]!.name)!;
  const ha = results.get(paths[1]!.name)!;
  console.log(`\nnode ${process.version}, ${DURATION}s per run, ${ROUNDS} rounds, medians; latency at ${RATE} req/s\n`);
  console.log('| path | req/s | p50 µs | p90 µs | p99 µs | RSS per proxy MB | PSS per proxy MB | CPU µs/req per proxy | req/s vs HAProxy mTLS pair | p99 vs HAProxy mTLS pair |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of paths) {
    const r = results.get(p.name)!;
    const cells = [median(r.rps).toFixed(0), median(r.p50), median(r.p90), median(r.p99), r.rss.length ? median(r.rss).toFixed(1) : '–', r.pss.length ? median(r.pss).toFixed(1) : '–', r.cpu.length ? median(r.cpu).toFixed(1) : '–',
      (median(r.rps) / median(ha.rps)).toFixed(2) + '×', (median(r.p99) / median(ha.p99)).toFixed(2) + '×'];
    console.log(`| ${p.name} | ${cells.join(' | ')} |`);
  }
  const trellis = results.get(paths[3]!.name)!;
  console.log(`\nadded p99 across the Trellis pair at ${RATE} req/s: ${median(trellis.p99) - median(direct.p99)} µs (direct p99 ${median(direct.p99)} µs)`);
  if (baseline) {
    const base = results.get(paths[4]!.name)!;
    console.log(`this checkout vs the baseline: ${(median(trellis.rps) / median(base.rps)).toFixed(3)}× the throughput, ${(median(trellis.p99) / median(base.p99)).toFixed(2)}× the p99, ${(median(trellis.cpu) / median(base.cpu)).toFixed(2)}× the CPU per request`);
  }
  if (PROFILE_DIR) {
    // V8 writes a CPU profile when the process exits on its own: stop the sidecars cleanly.
    await Promise.all([...current.procs, ...(baseline?.procs ?? [])].map((c) => new Promise((resolve) => {
      c.once('exit', resolve);
      c.kill('SIGTERM');
      setTimeout(resolve, 10_000).unref();
    })));
    console.log(`CPU profiles of the sidecars in ${path.resolve(PROFILE_DIR)}`);
  }
}

main().then(() => process.exit(0), (e) => { console.error(`bench: ${e instanceof Error ? e.message : e}`); process.exit(1); });
