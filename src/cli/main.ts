// The `trellis` command: registers every subcommand and turns errors into one clear line.
import { Command, CommanderError } from 'commander';
import { register as registerApply } from './commands/apply.js';
import { register as registerBlueGreen } from './commands/bluegreen.js';
import { register as registerCanary } from './commands/canary.js';
import { register as registerCapture } from './commands/capture.js';
import { register as registerCheck } from './commands/check.js';
import { register as registerControlPlane } from './commands/control-plane.js';
import { register as registerDelete } from './commands/delete.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerGet } from './commands/get.js';
import { register as registerProxy } from './commands/proxy.js';
import { register as registerRun } from './commands/run.js';
import { register as registerSecurity } from './commands/security.js';
import { register as registerStat } from './commands/stat.js';
import { register as registerStore } from './commands/store.js';
import { register as registerTap } from './commands/tap.js';
import { register as registerTop } from './commands/top.js';

/** Subcommand modules; each adds itself to the program. */
const COMMANDS: ((program: Command) => void)[] = [registerControlPlane, registerApply, registerGet, registerDelete, registerProxy, registerRun, registerDemo, registerCapture, registerStat, registerTop, registerTap, registerCheck, registerSecurity, registerCanary, registerBlueGreen, registerStore];

export function buildProgram(): Command {
  const program = new Command('trellis')
    .description('Trellis service mesh: control plane, sidecar proxy and tools')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** A reader that went away (`trellis tap reviews | head`) ends the command quietly, as in any Unix tool. */
function exitOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/**
 * grpc-js hands an IP target to TLS as the server name, which Node.js warns about (DEP0123)
 * on every xDS connection; the certificate is still checked against that IP's SAN. Other
 * warnings print as usual.
 */
function quietIpServerNameWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.code !== 'DEP0123') process.stderr.write(`(node:${process.pid}) ${w.code ? `[${w.code}] ` : ''}${w.name}: ${w.message}\n`);
  });
}

export async function main(argv: string[]): Promise<void> {
  exitOnClosedStdout();
  quietIpServerNameWarning();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed the message (or the help/version text).
      process.exitCode = e.exitCode;
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`trellis: ${message}\n`);
    if (process.env.TRELLIS_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}
