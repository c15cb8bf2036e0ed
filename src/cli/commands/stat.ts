// `trellis stat [services|workloads|edges]`: golden signals over a window, from the control plane.
import { InvalidArgumentError, type Command } from 'commander';
import { addControlPlaneOption, controlPlaneUrl } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { statTable, type StatSubject } from '../stat-output.js';
import { createTelemetryClient, type TelemetryClient } from '../telemetry-client.js';

export interface StatOptions {
  window: number;
  output?: string;
  controlPlane?: string;
}

const SUBJECTS: Record<string, StatSubject> = {
  services: 'services',
  service: 'services',
  svc: 'services',
  workloads: 'workloads',
  workload: 'workloads',
  edges: 'edges',
  edge: 'edges',
};

/** `30`, `30s`, `5m` as seconds (1 s to 1 h). */
export function parseWindowFlag(v: string): number {
  const m = /^(\d+)(s|m)?$/.exec(v);
  const s = m === null ? NaN : Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  if (!(s >= 1 && s <= 3600)) throw new InvalidArgumentError(`${v} is not a valid window: expected seconds (30, 30s) or minutes (5m), at most 1 h`);
  return s;
}

export async function runStat(
  subjectWord: string,
  opts: StatOptions,
  io: CliIo = processIo,
  client: TelemetryClient = createTelemetryClient(controlPlaneUrl(opts.controlPlane)),
): Promise<number> {
  const subject = SUBJECTS[subjectWord];
  if (subject === undefined) return (io.err(`error: unknown stat subject ${JSON.stringify(subjectWord)}; expected services, workloads or edges\n`), 1);
  if (opts.output !== undefined && opts.output !== 'json' && opts.output !== 'table') return (io.err(`error: -o ${opts.output} is not valid: expected json or table\n`), 1);
  const r = await client.stat(opts.window);
  if (!r.ok) return (io.err(`error: ${r.error}\n`), 1);
  if (opts.output === 'json') io.out(JSON.stringify({ windowSeconds: r.value.windowSeconds, at: r.value.at, items: r.value[subject] }, null, 2) + '\n');
  else io.out(statTable(r.value, subject));
  return 0;
}

export function register(program: Command): void {
  addControlPlaneOption(
    program
      .command('stat')
      .argument('[subject]', 'services, workloads or edges', 'services')
      .description('golden signals (request count, success rate, RPS, latency percentiles) per service, workload or edge')
      .option('-w, --window <duration>', 'the sliding window: 30s, 1m, 5m', parseWindowFlag, 60)
      .option('-o, --output <format>', 'table (default) or json'),
  )
    .addHelpText('after', '\nExamples:\n  trellis stat\n  trellis stat edges -w 5m\n  trellis stat workloads -o json')
    .action(async (subject: string, opts: StatOptions) => {
      process.exitCode = await runStat(subject, opts);
    });
}
