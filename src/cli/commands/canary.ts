// `trellis canary SERVICE --to BACKEND`: shifts the Service's traffic to a new backend step by
// step, watching the new backend's success rate and p99 latency in the mesh's metrics over each
// interval; promotes when every step was healthy, rolls back (and says why) when one was not.
// The state is stored on the HTTPRoute, so running the same command again resumes.
import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../../api/duration.js';
import { addControlPlaneOption, controlPlaneUrl, createApiClient, type ApiClient } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { defaultMetrics, type BackendMetrics } from '../rollout/backend-metrics.js';
import { currentBackend } from '../rollout/route-weights.js';
import { loadTarget, stateOf, writeWeights } from '../rollout/rollout-store.js';

export interface CanaryOptions {
  to: string;
  from?: string;
  route?: string;
  namespace?: string;
  steps?: string;
  interval?: string;
  minSuccess?: string;
  maxP99?: string;
  minRequests?: string;
  dataWait?: string;
  controlPlane?: string;
}

/** What is stored on the HTTPRoute while a canary runs and after it ended. */
export interface CanaryState {
  kind: 'canary';
  from: string;
  to: string;
  steps: number[];
  /** Index into steps of the step in effect. */
  step: number;
  phase: 'Progressing' | 'Promoted' | 'RolledBack';
  reason?: string;
  at: string;
}

interface Settings {
  steps: number[];
  intervalMs: number;
  minSuccess: number;
  maxP99Ms: number;
  minRequests: number;
  dataWaitMs: number;
}

function settings(o: CanaryOptions): Settings | string {
  const steps = (o.steps ?? '10,25,50,100').split(',').map((s) => Number(s.trim()));
  if (steps.some((s) => !Number.isInteger(s) || s < 1 || s > 100) || steps.some((s, i) => i > 0 && s <= steps[i - 1]!))
    return `--steps must be increasing whole percentages 1..100, got ${JSON.stringify(o.steps)}`;
  if (steps[steps.length - 1] !== 100) steps.push(100);
  const intervalMs = parseDuration(o.interval ?? '30s');
  if (typeof intervalMs === 'string' || intervalMs < 1) return `--interval ${typeof intervalMs === 'string' ? intervalMs : 'must be above 0'}`;
  const minSuccess = Number(o.minSuccess ?? '0.99');
  if (!(minSuccess >= 0 && minSuccess <= 1)) return `--min-success must be a fraction 0..1, got ${JSON.stringify(o.minSuccess)}`;
  const maxP99Ms = parseDuration(o.maxP99 ?? '500ms');
  if (typeof maxP99Ms === 'string') return `--max-p99 ${maxP99Ms}`;
  const minRequests = Number(o.minRequests ?? '20');
  if (!Number.isInteger(minRequests) || minRequests < 0) return `--min-requests must be a whole number, got ${JSON.stringify(o.minRequests)}`;
  const dataWaitMs = parseDuration(o.dataWait ?? '5m');
  if (typeof dataWaitMs === 'string') return `--data-wait ${dataWaitMs}`;
  return { steps, intervalMs, minSuccess, maxP99Ms, minRequests, dataWaitMs };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

export interface CanaryDeps {
  io: CliIo;
  client: ApiClient;
  metrics: BackendMetrics;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

/** Exit status of a canary held without a decision (no complete telemetry within --data-wait). */
export const CANARY_HELD = 2;

/** Runs `canary`; answers 0 when promoted, 1 when rolled back or on an error, CANARY_HELD when held without a decision. */
export async function runCanary(service: string, opts: CanaryOptions, deps: Partial<CanaryDeps> = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const client = deps.client ?? createApiClient(controlPlaneUrl(opts.controlPlane));
  const metrics = deps.metrics ?? (await defaultMetrics(client));
  const sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const now = deps.now ?? (() => new Date());
  const fail = (m: string): number => (io.err(`error: ${m}\n`), 1);
  const s = settings(opts);
  if (typeof s === 'string') return fail(s);
  const namespace = opts.namespace ?? 'default';
  const loaded = await loadTarget(client, namespace, service, opts.route, opts.from);
  if (!loaded.ok) return fail(loaded.error);
  const target = loaded.value;
  const to = opts.to;
  const previous = stateOf<CanaryState>(target.stored ? target.route : undefined);
  const from = opts.from ?? (previous?.kind === 'canary' && previous.to === to ? previous.from : currentBackend(target.route, to));
  if (!from) return fail(`cannot tell which backend has the traffic of ${service} now; give it with --from`);
  if (from === to) return fail(`--to ${to} is already the backend with the traffic; nothing to shift`);
  const toService = await client.get({ kind: 'Service', namespace, name: to });
  if (!toService.ok) return fail(`backend Service ${namespace}/${to} does not exist`);

  let start = 0;
  if (previous?.kind === 'canary' && previous.to === to && previous.from === from) {
    if (previous.phase === 'Progressing') {
      start = Math.max(0, s.steps.indexOf(previous.steps[previous.step]!));
      io.out(`resuming the canary of ${service}: ${from} -> ${to} at ${previous.steps[previous.step]}% (step ${start + 1} of ${s.steps.length})\n`);
    } else if (previous.phase === 'Promoted') {
      io.out(`the canary of ${service} to ${to} was already promoted (${previous.at})\n`);
      return 0;
    } else {
      io.out(`the last canary of ${service} to ${to} was rolled back (${previous.at}): ${previous.reason}; starting again\n`);
    }
  }
  const state = (step: number, phase: CanaryState['phase'], reason?: string): CanaryState => ({
    kind: 'canary',
    from,
    to,
    steps: s.steps,
    step,
    phase,
    ...(reason ? { reason } : {}),
    at: now().toISOString(),
  });

  const rollBack = async (step: number, reason: string): Promise<number> => {
    const w = await writeWeights(client, target, from, to, 0, state(step, 'RolledBack', reason));
    io.out(`rolled back: all traffic of ${service} to ${from}. Reason: ${reason}\n`);
    return w.ok ? 1 : fail(`rolling back failed: ${w.error}`);
  };

  for (let i = start; i < s.steps.length; i++) {
    const percent = s.steps[i]!;
    const last = i === s.steps.length - 1;
    const written = await writeWeights(client, target, from, to, percent, state(i, last ? 'Promoted' : 'Progressing'));
    if (!written.ok) return fail(written.error);
    io.out(
      `step ${i + 1}/${s.steps.length}: ${percent}% of ${service} to ${to}, ${100 - percent}% to ${from}${last ? '' : ` (watching ${metrics.source} for ${formatDuration(s.intervalMs)})`}\n`,
    );
    if (last) {
      io.out(`promoted: ${to} has all traffic of ${service}\n`);
      return 0;
    }
    // Watch the interval; a step with too few requests to judge is watched again (up to 3 times).
    // An interval the metrics did not fully see (a control plane that restarted, a proxy not yet
    // reporting) is not judged at all: it is watched again, for --data-wait at most.
    let waitedMs = 0;
    for (let tries = 1; ;) {
      const watch = await metrics.watch(to, namespace);
      if (!watch.ok) return rollBack(i, `cannot read the metrics of ${to} from ${metrics.source}: ${watch.error}`);
      await sleep(s.intervalMs);
      const seen = await watch.value.finish();
      if (!seen.ok) return rollBack(i, `cannot read the metrics of ${to} from ${metrics.source}: ${seen.error}`);
      const w = seen.value;
      if (w.incomplete !== undefined) {
        waitedMs += s.intervalMs;
        if (waitedMs > s.dataWaitMs) {
          io.out(
            `held: no complete metrics of ${to} from ${metrics.source} for ${formatDuration(waitedMs)} (over --data-wait ${formatDuration(s.dataWaitMs)}); last: ${w.incomplete}. ${percent}% of ${service} stays on ${to}; run the command again to resume\n`,
          );
          return CANARY_HELD;
        }
        io.out(`  not judged: ${w.incomplete}; holding ${percent}% for another interval (waited ${formatDuration(waitedMs)} of --data-wait ${formatDuration(s.dataWaitMs)})\n`);
        continue;
      }
      const p99 =
        w.p99 === undefined ? 'n/a' : w.p99 === Number.POSITIVE_INFINITY ? 'above the largest latency bucket' : `${formatDuration(Math.max(1, Math.round(w.p99 * 1000)))}`;
      io.out(`  ${to}: ${w.requests} requests in ${formatDuration(s.intervalMs)}, success ${pct(w.successRate)}, p99 ${p99}\n`);
      if (w.requests < s.minRequests) {
        if (tries >= 3)
          return rollBack(i, `${to} got ${w.requests} requests in the last interval (fewer than --min-requests ${s.minRequests}) three times; its health cannot be judged`);
        io.out(`  fewer than ${s.minRequests} requests: holding ${percent}% for another interval\n`);
        tries++;
        continue;
      }
      if (w.successRate < s.minSuccess) return rollBack(i, `success rate of ${to} was ${pct(w.successRate)} over ${w.requests} requests, below --min-success ${pct(s.minSuccess)}`);
      if (w.p99 !== undefined && w.p99 * 1000 > s.maxP99Ms) return rollBack(i, `p99 latency of ${to} was ${p99}, above --max-p99 ${formatDuration(s.maxP99Ms)}`);
      break;
    }
  }
  return 0;
}

export function register(program: Command): void {
  const cmd = program
    .command('canary <service>')
    .description("shift a Service's traffic to a new backend step by step, rolling back when it is unhealthy")
    .requiredOption('--to <backend>', 'the Service that gets the traffic (e.g. payments-v2)')
    .option('--from <backend>', 'the Service that has the traffic now (default: the main backend of its HTTPRoute)')
    .option('--route <name>', 'the HTTPRoute to change, when the Service has several')
    .option('-n, --namespace <ns>', 'namespace of the Service', 'default')
    .option('--steps <list>', 'percentages to go through, in order', '10,25,50,100')
    .option('--interval <duration>', 'how long each step is watched', '30s')
    .option('--min-success <fraction>', 'lowest success rate of the new backend that passes a step', '0.99')
    .option('--max-p99 <duration>', 'highest p99 latency of the new backend that passes a step', '500ms')
    .option('--min-requests <n>', 'fewest requests to the new backend in an interval to judge it', '20')
    .option('--data-wait <duration>', 'how long a step waits for metrics that cover a whole interval before the canary stops undecided (exit 2)', '5m');
  addControlPlaneOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  trellis canary payments --to payments-v2
  trellis canary payments --to payments-v2 --steps 5,20,50 --interval 1m --min-success 0.995 --max-p99 300ms

Running the same command again after an interruption resumes at the step it had reached.
An interval the metrics did not fully see (e.g. a control plane that just restarted) is not
judged; the step is watched again, and after --data-wait the canary stops without a decision
(exit status 2, the weights and state left as they are).`,
    )
    .action(async (service: string, opts: CanaryOptions) => {
      process.exitCode = await runCanary(service, opts);
    });
}
