// The flags of a sidecar's lifecycle, shared by `trellis proxy` and `trellis run` (which passes
// them on to its proxy): the app's readiness check and the drain on shutdown.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatProbeSpec, parseProbeSpec, type ProbeSpec, type SidecarOptions } from '../proxy/index.js';

export interface LifecycleOptions {
  readinessProbe: ProbeSpec;
  readinessPeriodMs: number;
  readinessTimeoutMs: number;
  readinessFailureThreshold: number;
  drainDelayMs: number;
  drainMs: number;
}

const probeSpec = (value: string): ProbeSpec => {
  const r = parseProbeSpec(value);
  if (!r.ok) throw new InvalidArgumentError(`--readiness-probe=${value} is not valid: ${r.error}`);
  return r.value;
};

const integer = (flag: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag}=${value} is not valid: expected an integer >= ${min}`);
  return n;
};

/** Adds the lifecycle flags; `probe` is the default readiness check. */
export function addLifecycleOptions(command: Command, probe: 'none' | 'tcp'): Command {
  return command
    .addOption(
      new Option(
        '--readiness-probe <none|tcp|http:/path>',
        "the app's readiness check on its port (127.0.0.1): a TCP connect, or GET of the path answering 200-399; the endpoint takes traffic only while the sidecar serves and the check passes",
      )
        .argParser(probeSpec)
        .default(probeSpec(probe), probe), // shown in --help as written on the command line
    )
    .option('--readiness-period-ms <ms>', 'between two readiness checks of a ready app (200 ms while it is not ready)', integer('--readiness-period-ms', 1), 1000)
    .option('--readiness-timeout-ms <ms>', 'how long one readiness check may take', integer('--readiness-timeout-ms', 1), 1000)
    .option('--readiness-failure-threshold <n>', 'failed checks in a row that take a ready endpoint out of load balancing', integer('--readiness-failure-threshold', 1), 3)
    .option('--drain-delay-ms <ms>', 'on shutdown, how long callers get to drop the withdrawn endpoint before inbound stops accepting', integer('--drain-delay-ms', 0), 2000)
    .option('--drain-ms <ms>', 'on shutdown, how long open inbound connections may finish', integer('--drain-ms', 0), 5000);
}

/** The sidecar options the flags set. */
export function sidecarLifecycle(o: LifecycleOptions): Pick<SidecarOptions, 'readiness' | 'drainDelayMs' | 'drainMs'> {
  return {
    readiness: { probe: o.readinessProbe, periodMs: o.readinessPeriodMs, timeoutMs: o.readinessTimeoutMs, failureThreshold: o.readinessFailureThreshold },
    drainDelayMs: o.drainDelayMs,
    drainMs: o.drainMs,
  };
}

/** What `trellis run`'s supervisor needs of the flags (its own `--exit-with-proxy` included). */
export function supervision(o: LifecycleOptions & { exitWithProxy?: boolean }): { drainTimeoutMs: number; exitWithProxy?: boolean } {
  // The proxy's own bounds, plus room for a loaded machine; past it the app is stopped anyway.
  return { drainTimeoutMs: o.drainDelayMs + o.drainMs + 5000, ...(o.exitWithProxy ? { exitWithProxy: true } : {}) };
}

/** The same flags as `trellis proxy` arguments. */
export function lifecycleArgv(o: LifecycleOptions): string[] {
  return [
    '--readiness-probe',
    formatProbeSpec(o.readinessProbe),
    '--readiness-period-ms',
    String(o.readinessPeriodMs),
    '--readiness-timeout-ms',
    String(o.readinessTimeoutMs),
    '--readiness-failure-threshold',
    String(o.readinessFailureThreshold),
    '--drain-delay-ms',
    String(o.drainDelayMs),
    '--drain-ms',
    String(o.drainMs),
  ];
}
