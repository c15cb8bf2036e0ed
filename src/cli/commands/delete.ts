// `trellis delete KIND NAME...` or `trellis delete -f FILE`: removes resources, one line per resource.
import type { Command } from 'commander';
import { CLUSTER_SCOPED_KINDS, type ResourceKey } from '../../api/resource.js';
import { addControlPlaneOption, controlPlaneUrl, createApiClient, type ApiClient } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { readManifests } from '../manifests.js';
import { formatClientError } from '../output.js';
import { KIND_WORDS, kindSlashName, resolveKind } from '../resource-kinds.js';

export interface DeleteOptions {
  filename?: string[];
  namespace?: string;
  ignoreNotFound?: boolean;
  controlPlane?: string;
}

/** The resources to delete, from the arguments or the files; or the lines to print. */
async function targets(args: string[], opts: DeleteOptions, io: CliIo): Promise<ResourceKey[] | string[]> {
  if (opts.filename?.length) {
    if (args.length > 0) return ['error: give either KIND NAME... or -f FILE, not both'];
    const read = await readManifests(opts.filename, io);
    if (!read.ok) return read.error;
    return read.value.map((r) => ({ kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace !== undefined ? { namespace: r.metadata.namespace } : {}) }));
  }
  const [kindWord, ...names] = args;
  if (kindWord === undefined || names.length === 0) return ['error: expected KIND NAME... (e.g. trellis delete svc payments) or -f FILE'];
  const kind = resolveKind(kindWord);
  if (!kind) return [`error: unknown resource type ${JSON.stringify(kindWord)}; expected ${KIND_WORDS}`];
  const namespace = CLUSTER_SCOPED_KINDS.includes(kind) ? undefined : (opts.namespace ?? 'default');
  return names.map((name) => ({ kind, name, ...(namespace !== undefined ? { namespace } : {}) }));
}

/** Runs `delete`; answers the exit code (1 if any resource could not be deleted). Deletes one at a time, not as a batch. */
export async function runDelete(
  args: string[],
  opts: DeleteOptions,
  io: CliIo = processIo,
  client: ApiClient = createApiClient(controlPlaneUrl(opts.controlPlane)),
): Promise<number> {
  const keys = await targets(args, opts, io);
  if (typeof keys[0] === 'string' || keys.length === 0) {
    io.err((keys as string[]).map((l) => `${l}\n`).join(''));
    return 1;
  }
  let code = 0;
  for (const key of keys as ResourceKey[]) {
    const r = await client.delete(key);
    if (r.ok) {
      io.out(`${kindSlashName(key.kind, key.name)} deleted\n`);
      continue;
    }
    if (r.error.code === 'STORE_NOT_FOUND' && opts.ignoreNotFound) continue;
    io.err(
      formatClientError(r.error)
        .map((l) => `${l}\n`)
        .join(''),
    );
    code = 1;
    // Without a control plane every other delete fails the same way.
    if (r.error.code === 'CONNECTION_FAILED') break;
  }
  return code;
}

export function register(program: Command): void {
  const cmd = program
    .command('delete')
    .description('delete resources by kind and name, or those defined in files')
    .argument('[kind-and-names...]', `KIND NAME...; KIND is ${KIND_WORDS}`)
    .option('-f, --filename <file...>', 'delete the resources defined in a file, a directory, or - for standard input')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('--ignore-not-found', 'a resource that does not exist is not an error');
  addControlPlaneOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  trellis delete httproute reviews
  trellis delete svc payments ledger -n shop
  trellis delete -f examples/demo/reviews-canary.yaml`,
    )
    .action(async (args: string[], opts: DeleteOptions) => {
      process.exitCode = await runDelete(args, opts);
    });
}
