// `trellis top`: the busiest services and edges, refreshed in place until Ctrl-C.
import { InvalidArgumentError, type Command } from 'commander';
import { addControlPlaneOption, controlPlaneUrl } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { statTable } from '../stat-output.js';
import { createTelemetryClient, type TelemetryClient } from '../telemetry-client.js';
import { parseWindowFlag } from './stat.js';

export interface TopOptions {
  window: number;
  interval: number;
  iterations?: number;
  controlPlane?: string;
}

const CLEAR = '\x1b[H\x1b[2J';

function positive(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 3600) throw new InvalidArgumentError(`${flag} ${v} is not valid: expected an integer from 1 to 3600`);
    return n;
  };
}

export async function runTop(
  opts: TopOptions,
  io: CliIo = processIo,
  client: TelemetryClient = createTelemetryClient(controlPlaneUrl(opts.controlPlane)),
  signal?: AbortSignal,
): Promise<number> {
  for (let i = 0; opts.iterations === undefined || i < opts.iterations; i++) {
    if (signal?.aborted) break;
    const r = await client.stat(opts.window);
    if (!r.ok) return (io.err(`error: ${r.error}\n`), 1);
    const head = `trellis top: ${client.baseUrl}, window ${opts.window}s, at ${r.value.at} (Ctrl-C to stop)\n\n`;
    io.out((opts.iterations === 1 ? '' : CLEAR) + head + 'Services\n' + statTable(r.value, 'services', true) + '\nEdges\n' + statTable(r.value, 'edges', true));
    if (opts.iterations !== undefined && i === opts.iterations - 1) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.interval * 1000);
      signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
  return 0;
}

export function register(program: Command): void {
  addControlPlaneOption(
    program
      .command('top')
      .description('live view of the busiest services and edges, refreshed in place')
      .option('-w, --window <duration>', 'the sliding window: 10s, 30s, 1m', parseWindowFlag, 10)
      .option('--interval <seconds>', 'seconds between refreshes', positive('--interval'), 2)
      .option('--iterations <n>', 'stop after n refreshes (default: until Ctrl-C)', positive('--iterations')),
  ).action(async (opts: TopOptions) => {
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.exitCode = await runTop(opts, processIo, undefined, stop.signal);
  });
}
