// The `trellis` command: registers every subcommand (`trellis proxy` starts from proxy-main.ts,
// which loads the proxy alone: see bin/trellis.js).
import type { Command } from 'commander';
import { register as registerApply } from './commands/apply.js';
import { register as registerBlueGreen } from './commands/bluegreen.js';
import { register as registerBootstrap } from './commands/bootstrap.js';
import { register as registerCanary } from './commands/canary.js';
import { register as registerCapture } from './commands/capture.js';
import { register as registerCheck } from './commands/check.js';
import { register as registerControlPlane } from './commands/control-plane.js';
import { register as registerDelete } from './commands/delete.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerGateway } from './commands/gateway.js';
import { register as registerGet } from './commands/get.js';
import { register as registerProxy } from './commands/proxy.js';
import { register as registerRun } from './commands/run.js';
import { register as registerSecurity } from './commands/security.js';
import { register as registerStat } from './commands/stat.js';
import { register as registerStore } from './commands/store.js';
import { register as registerTap } from './commands/tap.js';
import { register as registerTop } from './commands/top.js';
import { newProgram, runProgram } from './program.js';

/** Subcommand modules; each adds itself to the program. */
const COMMANDS: ((program: Command) => void)[] = [
  registerControlPlane,
  registerApply,
  registerGet,
  registerDelete,
  registerProxy,
  registerGateway,
  registerRun,
  registerBootstrap,
  registerDemo,
  registerCapture,
  registerStat,
  registerTop,
  registerTap,
  registerCheck,
  registerSecurity,
  registerCanary,
  registerBlueGreen,
  registerStore,
];

export function buildProgram(): Command {
  const program = newProgram();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await runProgram(buildProgram(), argv);
}
