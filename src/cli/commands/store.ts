// `trellis store verify|backup|restore|repair`: the operator's ways to check the control plane's
// store, copy it while it runs, put a copy back, and (only when asked) keep the good prefix of a
// damaged log. See docs/operations.md.
import path from 'node:path';
import type { Command } from 'commander';
import { restoreBackup, truncateLogAtCorruption, verifyStore, writeBackupFile, type SnapshotData, type StoreVerifyReport } from '../../control-plane/index.js';
import { addControlPlaneOption, controlPlaneUrl, createApiClient } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { formatClientError } from '../output.js';

const DEFAULT_DATA_DIR = process.env.TRELLIS_DATA_DIR ?? './trellis-data';

function verifyText(dataDir: string, r: StoreVerifyReport): string {
  const lines: string[] = [];
  if (r.ok)
    lines.push(`store OK: ${dataDir} opens at revision ${r.revision} (snapshot at revision ${r.snapshotRevision}, ${r.logRecords} log record(s), ${r.resources} resource(s))`);
  else lines.push(`store DAMAGED: ${dataDir} would not open (STORE_CORRUPT)`);
  if (r.tornTail)
    lines.push(
      `note: ${r.tornTail.file} ends with ${r.tornTail.bytes} bytes of an unfinished write at byte ${r.tornTail.offset} (${r.tornTail.reason}); the next start cuts them (that batch was never acknowledged)`,
    );
  for (const p of r.problems) lines.push(`problem: ${p.message}`);
  if (!r.ok) {
    if (r.recordsAfterDamage > 0) lines.push(`${r.recordsAfterDamage} intact record(s) lie after the first damage: keeping only the records before it drops them`);
    lines.push(
      `what to do: restore a backup (trellis store restore --from BACKUP --data-dir ${dataDir} --force), or keep the records before the damage (trellis store repair --truncate-at-corruption --data-dir ${dataDir}; a damaged snapshot can only be restored)`,
    );
  }
  return lines.map((l) => `${l}\n`).join('');
}

type VerifyOptions = { dataDir: string; output?: string };

async function verify(o: VerifyOptions, io: CliIo): Promise<number> {
  const report = await verifyStore(o.dataDir);
  if (o.output === 'json') io.out(`${JSON.stringify(report, null, 2)}\n`);
  else (report.ok ? io.out : io.err)(verifyText(o.dataDir, report));
  return report.ok ? 0 : 1;
}

type BackupOptions = { controlPlane?: string; force?: boolean };

async function backup(file: string, o: BackupOptions, io: CliIo): Promise<number> {
  const r = await createApiClient(controlPlaneUrl(o.controlPlane), { timeoutMs: 120_000 }).request<SnapshotData & { format: string }>('POST', '/api/v1/store/backup');
  if (!r.ok) {
    io.err(
      formatClientError(r.error)
        .map((l) => `${l}\n`)
        .join(''),
    );
    return 1;
  }
  const written = await writeBackupFile(file, { revision: r.value.revision, resources: r.value.resources }, o.force ?? false);
  if (!written.ok) {
    io.err(`error: ${written.error.code}: ${written.error.message}\n`);
    return 1;
  }
  io.out(`backup of revision ${r.value.revision} (${r.value.resources.length} resource(s)) written to ${path.resolve(file)}\n`);
  return 0;
}

type RestoreOptions = { from: string; dataDir: string; force?: boolean };

async function restore(o: RestoreOptions, io: CliIo): Promise<number> {
  const r = await restoreBackup({ from: o.from, dataDir: o.dataDir, force: o.force ?? false });
  if (!r.ok) {
    io.err(`error: ${r.error.code}: ${r.error.message}\n`);
    return 1;
  }
  io.out(
    `restored revision ${r.value.revision} (${r.value.resources} resource(s)) from ${o.from} into ${path.resolve(o.dataDir)}${r.value.movedAside ? `; the previous store files are in ${r.value.movedAside}` : ''}\n`,
  );
  return 0;
}

type RepairOptions = { dataDir: string; truncateAtCorruption?: boolean };

async function repair(o: RepairOptions, io: CliIo): Promise<number> {
  if (!o.truncateAtCorruption) {
    io.err(
      "error: repair changes the store only when told how: --truncate-at-corruption keeps the log's records before its first damage and drops everything after it (acknowledged changes included; the original is copied aside first). Run `trellis store verify` to see what would be lost, or restore a backup instead\n",
    );
    return 1;
  }
  const r = await truncateLogAtCorruption(o.dataDir);
  if (!r.ok) {
    io.err(`error: ${r.error.code}: ${r.error.message}\n`);
    return 1;
  }
  if (!r.value.repaired) {
    io.out(`nothing to repair: the store log of ${path.resolve(o.dataDir)} has no damage (revision ${r.value.revision})\n`);
    return 0;
  }
  io.out(
    `cut the store log at byte ${r.value.cutAt}: dropped ${r.value.droppedBytes} bytes (${r.value.droppedIntactRecords} intact record(s) after the damage among them); the store now opens at revision ${r.value.revision}; the original log is in ${r.value.copy}\n`,
  );
  return 0;
}

export function register(program: Command): void {
  const store = program.command('store').description("check, back up, restore and repair the control plane's store (see docs/operations.md)");
  store
    .command('verify')
    .description('read the store files of a data dir (offline, changes nothing) and report OK with the revision, or every problem with its file and offset; exit 1 when damaged')
    .option('--data-dir <dir>', "the control plane's data directory", DEFAULT_DATA_DIR)
    .option('-o, --output <format>', 'json for machine-readable output')
    .action(async (o: VerifyOptions) => {
      process.exitCode = await verify(o, processIo);
    });
  addControlPlaneOption(
    store
      .command('backup')
      .description("write a consistent copy of the running control plane's store (every resource at one revision) to FILE (admin token)")
      .argument('<file>')
      .option('--force', 'replace FILE if it exists'),
  ).action(async (file: string, o: BackupOptions) => {
    process.exitCode = await backup(file, o, processIo);
  });
  store
    .command('restore')
    .description(
      'make a backup the store of a data dir, with its control plane stopped; a data dir that holds a store needs --force (its store files are moved aside, never deleted)',
    )
    .requiredOption('--from <file>', 'the backup (from trellis store backup)')
    .requiredOption('--data-dir <dir>', "the control plane's data directory")
    .option('--force', 'restore over an existing store (moved into <data-dir>/replaced-<time>/)')
    .action(async (o: RestoreOptions) => {
      process.exitCode = await restore(o, processIo);
    });
  store
    .command('repair')
    .description('with its control plane stopped, keep only the records of the store log before its first damage (the original is copied aside first)')
    .requiredOption('--data-dir <dir>', "the control plane's data directory")
    .option('--truncate-at-corruption', 'the one repair there is: drop the damaged record and everything after it')
    .action(async (o: RepairOptions) => {
      process.exitCode = await repair(o, processIo);
    });
}
