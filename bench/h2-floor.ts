// The floor under the Trellis pair's HTTP/2 and gRPC figures: what node:http2 itself costs a
// stream through two proxies. Side by side in one run, with the same load as `npm run bench`
// (h2load -c32 -m10, h2c and unary gRPC) and the same pinning: direct to nginx, the HAProxy
// mTLS pair (the reference), a pair of minimal node:http2 relays (pair/h2-relay.ts: h2c in,
// h2 over mTLS between them, h2c to nginx, stream for stream) and the Trellis pair.
// Run by hand (not in CI):
//   npm run build && node dist/bench/h2-floor.js [--duration 5] [--rounds 3] [--warmup 5]
//     [--node PATH] [--baseline CHECKOUT] [--profile DIR]
// `--node` runs the relays and the sidecars (default: Node.js 24 from node_modules when
// installed); `--baseline CHECKOUT` adds the Trellis pair of another built checkout;
// `--profile DIR` writes V8 CPU profiles of the relays and the sidecars there.
// Needs (Debian): apt-get install nginx haproxy nghttp2-client util-linux openssl
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { freePorts } from '../src/common/free-port.js';
import { SIDECAR_NODE_FLAGS, trellisArgv } from '../src/common/self.js';
import { tcpOpen, waitFor } from '../src/common/wait.js';
import { startBackends } from './pair/backends.js';
import { haproxyCerts, haproxyMtlsPair, type PairCerts } from './pair/haproxy.js';
import { checkGrpcOk, checkH2Ok, h2Throughput, type GrpcLoad } from './pair/load.js';
import { INSTALLED_NODE_24 } from './pair/options.js';
import { cpuTimeUs, Processes } from './pair/processes.js';
import { formatTable, summarize, type Row } from './pair/table.js';
import { startTrellisPair } from './pair/trellis-pair.js';

type Section = 'h2' | 'grpc';

/** A way from the client to nginx: its entry port and its proxies, per protocol. */
interface Target {
  readonly name: string;
  readonly ports: Readonly<Record<Section, number>>;
  readonly procs: Readonly<Record<Section, readonly ChildProcess[]>>;
}

const RELAY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pair', 'h2-relay.js');

/** A relay pair for one nginx port: A (h2c in) → B (h2 over mTLS in) → nginx (h2c). Returns A's port. */
async function relayPair(procs: Processes, node: string, nodeFlags: readonly string[], certs: PairCerts, upstreamPort: number): Promise<{ port: number; procs: ChildProcess[] }> {
  const [a, b] = await freePorts(2);
  const argv = (...args: string[]) => [...SIDECAR_NODE_FLAGS, ...nodeFlags, RELAY, ...args];
  const relayB = procs.start(node, argv(String(b), `http://127.0.0.1:${upstreamPort}`, certs.ca, certs.b, '--tls'));
  const relayA = procs.start(node, argv(String(a), `https://127.0.0.1:${b}`, certs.ca, certs.a));
  await waitFor(() => tcpOpen(a!), 'relay A', 30000);
  await waitFor(() => tcpOpen(b!), 'relay B', 30000);
  return { port: a!, procs: [relayA, relayB] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '5' },
      node: { type: 'string' },
      baseline: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const d = Number(values.duration);
  const node = path.resolve(values.node ?? (existsSync(INSTALLED_NODE_24) ? INSTALLED_NODE_24 : process.execPath));
  const procs = new Processes();
  const [h1, h2, grpcPort, bulk, ...ha] = await freePorts(4 + 8);
  const nginx = { http1: h1!, h2: h2!, grpc: grpcPort!, bulk: bulk! };
  const backends = startBackends(procs, nginx, 0);
  const grpc: GrpcLoad = { requestFile: backends.grpcRequestFile, replyBytes: backends.grpcReplyBytes };
  const certs = haproxyCerts(procs.dir);
  const haFront = { http1: ha[0]!, h2: ha[1]!, grpc: ha[2]!, tcp: ha[3]! };
  const haMtls = haproxyMtlsPair(procs, haFront, { http1: ha[4]!, h2: ha[5]!, grpc: ha[6]!, tcp: ha[7]! }, nginx, certs);
  // One relay pair per protocol, as HAProxy and Trellis have a port (and a session) each.
  const profile = (label: string) =>
    values.profile ? { profileDir: values.profile, relayFlags: ['--cpu-prof', `--cpu-prof-dir=${path.join(values.profile, label)}`] } : undefined;
  const floorH2 = await relayPair(procs, node, profile('relay-h2')?.relayFlags ?? [], certs, nginx.h2);
  const floorGrpc = await relayPair(procs, node, profile('relay-grpc')?.relayFlags ?? [], certs, nginx.grpc);
  const [, bin] = trellisArgv();
  const pair = (label: string, checkout: string) =>
    startTrellisPair(procs, { label, bin: checkout, node, nodeFlags: [], ...(values.profile ? { profileDir: values.profile } : {}) }, nginx);
  const trellis = await pair('current', bin);
  const baseline = values.baseline ? await pair('baseline', path.join(values.baseline, 'bin/trellis.js')) : undefined;

  const both = (p: readonly ChildProcess[]) => ({ h2: p, grpc: p });
  const targets: Target[] = [
    { name: 'direct to nginx', ports: { h2: nginx.h2, grpc: nginx.grpc }, procs: both([]) },
    { name: 'HAProxy pair (mTLS)', ports: { h2: haFront.h2, grpc: haFront.grpc }, procs: both(haMtls) },
    { name: 'node:http2 relay pair (mTLS), the floor', ports: { h2: floorH2.port, grpc: floorGrpc.port }, procs: { h2: floorH2.procs, grpc: floorGrpc.procs } },
    { name: 'Trellis pair (mTLS)', ports: trellis.front, procs: both(trellis.procs) },
    ...(baseline ? [{ name: `Trellis pair, baseline ${path.basename(values.baseline!)} (mTLS)`, ports: baseline.front, procs: both(baseline.procs) }] : []),
  ];
  const url = (port: number) => `http://127.0.0.1:${port}/`;
  for (const t of targets) {
    await waitFor(() => tcpOpen(t.ports.h2), t.name, 30000);
    await checkH2Ok(url(t.ports.h2), 20);
    await checkGrpcOk(url(t.ports.grpc), grpc, 20);
  }

  const rows = new Map<string, Row>();
  const sections: readonly Section[] = ['h2', 'grpc'];
  for (const section of sections) {
    const ref: Row = { section, path: targets[1]!.name, unit: 'req/s', isReference: true, samples: [] };
    for (const t of targets) rows.set(`${section}/${t.name}`, t === targets[1] ? ref : { section, path: t.name, unit: 'req/s', reference: ref, samples: [] });
  }
  const load = (t: Target, section: Section, seconds: number) => h2Throughput(procs, url(t.ports[section]), seconds, section === 'grpc' ? grpc : undefined);
  for (const section of sections) for (const t of targets) await load(t, section, Number(values.warmup));
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const section of sections) {
      for (const t of targets) {
        const pids = t.procs[section].map((c) => c.pid!);
        const before = pids.map(cpuTimeUs);
        const { rate, errors } = await load(t, section, d);
        const cpu = pids.map((pid, i) => (cpuTimeUs(pid) - before[i]!) / (rate * d));
        rows.get(`${section}/${t.name}`)!.samples.push({ rate, errors, ...(pids.length > 0 ? { cpu } : {}) });
        console.error(`round ${round} ${section} ${t.name}: ${rate.toFixed(0)} req/s, CPU µs/req ${cpu.map((c) => c.toFixed(1)).join(' / ')}${errors ? `, ${errors} ERRORS` : ''}`);
      }
    }
  }
  console.log(`\nnode:http2 floor; relays and sidecars on ${node}; ${d}s per run, ${values.rounds} round(s), medians; CPU: the busier proxy of a pair.\n`);
  console.log(formatTable([...rows.values()].map(summarize)));
  if (values.profile) {
    // V8 writes a CPU profile when the process exits on its own: stop the relays and sidecars cleanly.
    const profiled = [...floorH2.procs, ...floorGrpc.procs, ...trellis.procs, ...(baseline?.procs ?? [])];
    await Promise.all(profiled.map((c) => procs.stop(c)));
    console.log(`CPU profiles in ${values.profile}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
