// `trellis get KIND [NAME]`: resources (or the proxies the control plane sees) as a table, YAML or JSON.
import { InvalidArgumentError, type Command } from 'commander';
import { CLUSTER_SCOPED_KINDS, type Resource } from '../../api/resource.js';
import type { ProxyStatus } from '../../api/proxy-status.js';
import { addControlPlaneOption, controlPlaneUrl, createApiClient, type ApiClient } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { formatClientError, proxyTable, resourceTable, toJson, toYaml, type OutputFormat } from '../output.js';
import { KIND_WORDS, resolveGetTarget } from '../resource-kinds.js';

export interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
  controlPlane?: string;
}

const FORMATS: Record<string, OutputFormat> = { yaml: 'yaml', json: 'json', wide: 'wide' };

export function parseOutputFormat(value: string): OutputFormat {
  const f = FORMATS[value];
  if (!f) throw new InvalidArgumentError(`-o ${value} is not valid: expected yaml, json or wide`);
  return f;
}

function render(format: OutputFormat, items: readonly unknown[], single: boolean, table: (wide: boolean) => string): string {
  if (format === 'yaml') return toYaml(items);
  if (format === 'json') return toJson(items, single);
  return table(format === 'wide');
}

function renderProxies(io: CliIo, proxies: ProxyStatus[], format: OutputFormat, single: boolean, now: Date): void {
  io.out(render(format, proxies, single, (wide) => proxyTable(proxies, { wide, now })));
}

/** Runs `get`; answers the exit code. */
export async function runGet(
  kindWord: string,
  name: string | undefined,
  opts: GetOptions,
  io: CliIo = processIo,
  client: ApiClient = createApiClient(controlPlaneUrl(opts.controlPlane)),
  now = new Date(),
): Promise<number> {
  const fail = (lines: string[]) => {
    io.err(lines.map((l) => `${l}\n`).join(''));
    return 1;
  };
  const target = resolveGetTarget(kindWord);
  if (!target) return fail([`error: unknown resource type ${JSON.stringify(kindWord)}; expected ${KIND_WORDS} or proxies`]);
  let format: OutputFormat;
  try {
    format = opts.output ? parseOutputFormat(opts.output) : 'table';
  } catch (e) {
    return fail([`error: ${(e as Error).message}`]);
  }
  if (name !== undefined && opts.allNamespaces) return fail(['error: a resource cannot be fetched by name across all namespaces; drop -A or the name']);

  if ('proxies' in target) {
    const r = await client.proxies();
    if (!r.ok) return fail(formatClientError(r.error));
    const proxies = r.value.filter((p) => (name === undefined || p.id === name) && (opts.namespace === undefined || p.namespace === opts.namespace));
    if (name !== undefined && proxies.length === 0) return fail([`error: no proxy with id ${JSON.stringify(name)} is known to the control plane`]);
    if (proxies.length === 0 && format !== 'json') return nothingFound(io, 'No proxies found.');
    renderProxies(io, proxies, format, name !== undefined, now);
    return 0;
  }

  const { kind } = target;
  const clusterScoped = CLUSTER_SCOPED_KINDS.includes(kind);
  const namespace = clusterScoped ? undefined : opts.allNamespaces ? undefined : (opts.namespace ?? 'default');
  let items: Resource[];
  if (name !== undefined) {
    const r = await client.get({ kind, name, ...(namespace !== undefined ? { namespace } : {}) });
    if (!r.ok) return fail(formatClientError(r.error));
    items = [r.value];
  } else {
    const r = await client.list(kind, namespace);
    if (!r.ok) return fail(formatClientError(r.error));
    items = r.value;
    if (items.length === 0 && format !== 'json') {
      return nothingFound(io, namespace !== undefined ? `No resources found in ${namespace} namespace.` : 'No resources found.');
    }
  }
  const showNamespace = !clusterScoped && opts.allNamespaces === true;
  io.out(render(format, items, name !== undefined, (wide) => resourceTable(kind, items, { wide, showNamespace, now })));
  return 0;
}

/** Nothing to show is not an error (kubectl prints it on stderr and exits 0). */
function nothingFound(io: CliIo, line: string): number {
  io.err(`${line}\n`);
  return 0;
}

export function register(program: Command): void {
  const cmd = program
    .command('get')
    .description('show resources (service, httproute, meshconfig) or the proxies connected to the control plane')
    .argument('<kind>', `what to show: ${KIND_WORDS}, or proxies`)
    .argument('[name]', 'one resource (or proxy id) only')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('-A, --all-namespaces', 'resources of every namespace')
    .option('-o, --output <format>', 'yaml, json, or wide (a table with more columns)');
  addControlPlaneOption(cmd)
    .addHelpText(
      'after',
      `
Examples:
  trellis get services                  # Services in namespace default
  trellis get svc -A -o wide            # every namespace, with selectors
  trellis get httproute reviews -o yaml # one route, ready to edit and apply again
  trellis get meshconfig
  trellis get svc payments -n shop -o json
  trellis get proxies                   # connected proxies, config versions and NACKs`,
    )
    .action(async (kind: string, name: string | undefined, opts: GetOptions) => {
      process.exitCode = await runGet(kind, name, opts);
    });
}
