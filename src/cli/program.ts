// What every `trellis` entry shares: the program with its name and version, and running it so
// that errors end in one clear line. main.ts registers every command; proxy-main.ts only the proxy.
import { Command, CommanderError } from 'commander';

export function newProgram(): Command {
  return new Command('trellis')
    .description('Trellis service mesh: control plane, sidecar proxy and tools')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
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

/** Parses `argv` and runs the command it names; a failure sets the exit code and prints one line. */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  exitOnClosedStdout();
  quietIpServerNameWarning();
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
