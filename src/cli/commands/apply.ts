// `trellis apply -f FILE`: validates locally, then creates or replaces every resource in one batch (all or nothing).
import type { Command } from 'commander';
import { addControlPlaneOption, controlPlaneUrl, createApiClient, type ApiClient } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { readManifests } from '../manifests.js';
import { formatClientError } from '../output.js';
import { kindSlashName } from '../resource-kinds.js';

export interface ApplyOptions {
  filename: string[];
  dryRun?: boolean;
  controlPlane?: string;
}

/** Runs `apply`; answers the exit code (0 when every resource was applied). */
export async function runApply(opts: ApplyOptions, io: CliIo = processIo, client: ApiClient = createApiClient(controlPlaneUrl(opts.controlPlane))): Promise<number> {
  if (!opts.filename?.length) {
    io.err('error: no file given; use -f FILE (or -f - for standard input)\n');
    return 1;
  }
  const read = await readManifests(opts.filename, io);
  if (!read.ok) {
    io.err(read.error.map((l) => `${l}\n`).join(''));
    return 1;
  }
  const applied = await client.apply(read.value, { dryRun: opts.dryRun ?? false });
  if (!applied.ok) {
    io.err(
      formatClientError(applied.error)
        .map((l) => `${l}\n`)
        .join(''),
    );
    return 1;
  }
  const suffix = applied.value.dryRun ? ' (dry run)' : '';
  io.out(applied.value.results.map((r) => `${kindSlashName(r.kind, r.name)} ${r.action}${suffix}\n`).join(''));
  return 0;
}

export function register(program: Command): void {
  const cmd = program
    .command('apply')
    .description('create or update resources from YAML files; every resource in one batch, all or nothing')
    .option('-f, --filename <file...>', 'a file, a directory of .yaml/.yml/.json files, or - for standard input (repeatable)')
    .option('--dry-run', 'check with the control plane what would change, without changing anything');
  addControlPlaneOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  trellis apply -f examples/demo/mesh.yaml
  trellis apply -f routes/ -f services.yaml
  cat canary.yaml | trellis apply -f -
  trellis apply -f canary.yaml --dry-run`,
    )
    .action(async (opts: ApplyOptions) => {
      process.exitCode = await runApply(opts);
    });
}
