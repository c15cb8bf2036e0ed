// `trellis bluegreen SERVICE --to BACKEND` switches all of a Service's traffic to another
// backend at once; `--back` switches it to the backend that had it before. The backend that
// was switched away from is remembered on the HTTPRoute (weight 0 and an annotation).
import type { Command } from 'commander';
import { addControlPlaneOption, controlPlaneUrl, createApiClient, type ApiClient } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { currentBackend } from '../rollout/route-weights.js';
import { loadTarget, stateOf, writeWeights } from '../rollout/rollout-store.js';

export interface BlueGreenOptions {
  to?: string;
  from?: string;
  back?: boolean;
  route?: string;
  namespace?: string;
  controlPlane?: string;
}

export interface BlueGreenState {
  kind: 'bluegreen';
  active: string;
  previous: string;
  at: string;
}

/** Runs `bluegreen`; answers the exit code. */
export async function runBlueGreen(
  service: string,
  opts: BlueGreenOptions,
  io: CliIo = processIo,
  client: ApiClient = createApiClient(controlPlaneUrl(opts.controlPlane)),
  now = () => new Date(),
): Promise<number> {
  const fail = (m: string): number => (io.err(`error: ${m}\n`), 1);
  if (Boolean(opts.to) === Boolean(opts.back)) return fail('give either --to BACKEND (switch to it) or --back (switch to the backend before)');
  const namespace = opts.namespace ?? 'default';
  const loaded = await loadTarget(client, namespace, service, opts.route, opts.from);
  if (!loaded.ok) return fail(loaded.error);
  const target = loaded.value;
  const previous = stateOf<BlueGreenState>(target.stored ? target.route : undefined);
  let to: string;
  let from: string | undefined;
  if (opts.back) {
    if (previous?.kind !== 'bluegreen') return fail(`no earlier blue/green switch of ${service} is recorded on HTTPRoute ${target.route.metadata.name}; use --to BACKEND`);
    to = previous.previous;
    from = previous.active;
  } else {
    to = opts.to!;
    from = opts.from ?? currentBackend(target.route, to);
  }
  if (!from) return fail(`cannot tell which backend has the traffic of ${service} now; give it with --from`);
  if (from === to) return fail(`${to} already has all traffic of ${service}`);
  const exists = await client.get({ kind: 'Service', namespace, name: to });
  if (!exists.ok) return fail(`backend Service ${namespace}/${to} does not exist`);
  const state: BlueGreenState = { kind: 'bluegreen', active: to, previous: from, at: now().toISOString() };
  const w = await writeWeights(client, target, from, to, 100, state);
  if (!w.ok) return fail(w.error);
  io.out(`switched: all traffic of ${service} to ${to} (was ${from}); \`trellis bluegreen ${service} --back\` switches back\n`);
  return 0;
}

export function register(program: Command): void {
  const cmd = program
    .command('bluegreen <service>')
    .description("switch all of a Service's traffic to another backend at once, or back")
    .option('--to <backend>', 'the Service that gets all the traffic (e.g. payments-green)')
    .option('--back', 'switch back to the backend that had the traffic before the last switch')
    .option('--from <backend>', 'the Service that has the traffic now (default: the main backend of its HTTPRoute)')
    .option('--route <name>', 'the HTTPRoute to change, when the Service has several')
    .option('-n, --namespace <ns>', 'namespace of the Service', 'default');
  addControlPlaneOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  trellis bluegreen payments --to payments-green
  trellis bluegreen payments --back`,
    )
    .action(async (service: string, opts: BlueGreenOptions) => {
      process.exitCode = await runBlueGreen(service, opts);
    });
}
