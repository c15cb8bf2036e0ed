// The entry of `trellis proxy` and `trellis gateway` (bin/trellis.js picks it): the proxy commands alone, so a sidecar
// loads none of the control plane's, dashboard's or other commands' code. `trellis --help`
// still lists every command through main.ts; scripts/check-cycles.mjs keeps this closure lean.
import { register } from './commands/proxy.js';
import { register as registerGateway } from './commands/gateway.js';
import { newProgram, runProgram } from './program.js';

export async function main(argv: string[]): Promise<void> {
  const program = newProgram();
  register(program);
  registerGateway(program);
  await runProgram(program, argv);
}
