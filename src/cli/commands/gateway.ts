// `trellis gateway`: runs an ingress gateway, a Trellis proxy with no workload of its own whose
// listeners are those of the Gateway NAME in NAMESPACE. Its mesh identity is the service account
// NAME (a join token created for the service NAME), so AuthorizationPolicies name it like any caller.
import type { Command } from 'commander';
import { CA_FILE_ENV } from '../../common/control-plane-trust.js';
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import type { ProxyMetadata } from '../../xds/node-metadata.js';
import { addLifecycleOptions } from '../lifecycle-flags.js';
import { socketPathFlag, xdsTarget } from '../flags.js';
import { JOIN_TOKEN_ENV, runProxyProcess, type ProxyProcessOptions } from './proxy.js';

interface Options extends ProxyProcessOptions {
  name: string;
  namespace: string;
  address: string;
  adminPort: number;
  adminSocket?: string;
}

/** The node metadata of a gateway: kind gateway, the Gateway's name as its service, no inbound ports or upstreams. */
export function gatewayMetadata(opts: Pick<Options, 'name' | 'namespace' | 'address' | 'adminPort' | 'adminSocket'>): ProxyMetadata {
  return {
    kind: 'gateway',
    service: opts.name,
    namespace: opts.namespace,
    labels: {},
    address: opts.address,
    inbound: [],
    upstreams: [],
    adminPort: opts.adminPort,
    ...(opts.adminSocket !== undefined ? { adminSocket: opts.adminSocket } : {}),
  };
}

function ipAddress(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError(`--address ${value} is not valid: expected an IPv4 or IPv6 address to bind the listeners on`);
  return value;
}

export function register(program: Command): void {
  const command = program
    .command('gateway')
    .description('run an ingress gateway: binds the listeners of the Gateway NAME on --address and routes what its HTTPRoutes and GRPCRoutes accept into the mesh')
    .requiredOption('--name <name>', 'the Gateway this process runs; also its service account in the mesh')
    .option('-n, --namespace <ns>', 'namespace of the Gateway', 'default')
    .option('--address <ip>', "address the Gateway's listeners bind on", ipAddress, '0.0.0.0')
    .option('--admin-port <port>', 'admin listener on 127.0.0.1: /ready, /config_dump, /metrics', Number, 15021)
    .option('--admin-socket <path>', 'also serve the admin listener on this Unix socket (owner only)', socketPathFlag('--admin-socket'))
    .option('--xds-address <host:port>', 'the control plane xDS address (HOST:PORT or unix:PATH)', xdsTarget('--xds-address'), process.env.TRELLIS_XDS_ADDRESS ?? '127.0.0.1:15010')
    .option('--ca-file <file>', `the mesh trust bundle that verifies the control plane (default: $${CA_FILE_ENV}, else ./trellis-data/ca/trust-bundle.pem if present)`)
    .option('--id <id>', 'node id (default: gateway~ADDRESS:ADMIN_PORT~NAME.NAMESPACE)')
    .option('--join-token <token>', `a join token created for the service NAME with trellis token create (default: $${JOIN_TOKEN_ENV})`)
    .option('--access-log-file <path>', 'write access log lines here instead of stdout (when the MeshConfig turns them on)');
  addLifecycleOptions(command, 'none')
    .addHelpText(
      'after',
      `
Example:
  trellis token create --service edge -n web > edge.token
  trellis gateway --name edge -n web --join-token "$(cat edge.token)"`,
    )
    .action(async (opts: Options) => {
      await runProxyProcess('trellis gateway', gatewayMetadata(opts), opts);
    });
}
