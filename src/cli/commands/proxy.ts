// `trellis proxy`: runs one sidecar proxy, configured by the control plane over xDS.
import type { Command } from 'commander';
import { CA_FILE_ENV, readTrustBundle, trustBundleFile } from '../../common/control-plane-trust.js';
import { defaultNodeId, startSidecar, type SidecarOptions } from '../../proxy/index.js';
import type { ProxyMetadata } from '../../xds/node-metadata.js';
import { addLifecycleOptions, sidecarLifecycle, type LifecycleOptions } from '../lifecycle-flags.js';
import { collectValid, hostPort, parseHostPort, parseInbound, parseLabel, parseUpstream, portList, socketPathFlag, xdsTarget } from '../flags.js';

interface Options extends LifecycleOptions {
  service: string;
  namespace: string;
  label: string[];
  address: string;
  inbound: string[];
  upstream: string[];
  httpProxyPort?: number;
  adminPort: number;
  adminSocket?: string;
  xdsAddress: string;
  id?: string;
  transparent?: boolean;
  captureInboundPort: number;
  captureOutboundPort: number;
  dnsPort: number;
  captureExcludeInboundPorts: number[];
  dnsUpstream?: string;
  accessLogFile?: string;
}

/** Where `trellis proxy` reads its join token unless --join-token is given (`trellis run` passes it this way, off the command line). */
export const JOIN_TOKEN_ENV = 'TRELLIS_JOIN_TOKEN';

/** Builds the node metadata the proxy announces from its flags. */
export function metadataFromFlags(opts: Options): ProxyMetadata {
  return {
    service: opts.service,
    namespace: opts.namespace,
    labels: Object.fromEntries(opts.label.map(parseLabel)),
    address: opts.address,
    inbound: opts.inbound.map(parseInbound),
    ...(opts.httpProxyPort ? { httpProxyPort: opts.httpProxyPort } : {}),
    upstreams: opts.upstream.map(parseUpstream),
    adminPort: opts.adminPort,
    ...(opts.adminSocket !== undefined ? { adminSocket: opts.adminSocket } : {}),
    ...(opts.transparent
      ? {
          capture: {
            inboundPort: opts.captureInboundPort,
            outboundPort: opts.captureOutboundPort,
            ...(opts.dnsPort > 0 ? { dnsPort: opts.dnsPort } : {}),
            ...(opts.captureExcludeInboundPorts?.length ? { excludeInboundPorts: opts.captureExcludeInboundPorts } : {}),
          },
        }
      : {}),
  };
}

/** What `trellis proxy` and `trellis gateway` share on their command lines besides the node metadata. */
export type ProxyProcessOptions = LifecycleOptions & { id?: string; xdsAddress: string; joinToken?: string; caFile?: string; accessLogFile?: string };

/** Runs a proxy with `metadata` until SIGINT or SIGTERM (a second one cuts the drain short), then drains and closes it. */
export async function runProxyProcess(command: string, metadata: ProxyMetadata, opts: ProxyProcessOptions, extra: Pick<SidecarOptions, 'dnsUpstream'> = {}): Promise<void> {
  const joinToken = opts.joinToken ?? process.env[JOIN_TOKEN_ENV];
  if (!joinToken) process.stderr.write(`${command}: no join token (--join-token or $${JOIN_TOKEN_ENV}); the control plane will refuse this proxy\n`);
  const caFile = trustBundleFile(opts.caFile);
  const sidecar = await startSidecar({
    id: opts.id ?? defaultNodeId(metadata),
    metadata,
    xdsAddress: opts.xdsAddress,
    ...sidecarLifecycle(opts),
    ...(joinToken ? { joinToken } : {}),
    ...(caFile !== undefined ? { controlPlaneRoots: readTrustBundle(caFile) } : {}),
    ...extra,
    ...(opts.accessLogFile !== undefined ? { accessLogFile: opts.accessLogFile } : {}),
  });
  // Stay subscribed while closing: a repeated signal (trellis run's supervisor sends one after the
  // process group's) would otherwise kill the proxy mid-drain, its admin socket file left behind.
  // The first signal drains and closes; a repeated one cuts the drain delay short.
  let signals = 0;
  await new Promise<void>((resolve) => {
    const onSignal = () => (signals++ === 0 ? resolve() : sidecar.hurry());
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await sidecar.close();
}

export function register(program: Command): void {
  const command = program
    .command('proxy')
    .description('run a sidecar proxy for one workload; its listeners, routes and endpoints come from the control plane')
    .requiredOption('--service <name>', 'the service this workload belongs to')
    .option('-n, --namespace <ns>', 'namespace of the service', 'default')
    .option('--label <key=value>', 'workload label, e.g. version=v2 (repeatable)', collectValid(parseLabel), [])
    .option('--address <ip>', 'address other proxies use to reach this one', '127.0.0.1')
    .option('--inbound <port:appPort>', 'listen on port for traffic to the app on 127.0.0.1:appPort (repeatable)', collectValid(parseInbound), [])
    .option('--upstream <service[.ns]:port=localPort>', 'a local listener on 127.0.0.1:localPort for a Service port (repeatable)', collectValid(parseUpstream), [])
    .option('--http-proxy-port <port>', 'HTTP proxy listener (HTTP_PROXY) on 127.0.0.1', Number)
    .option('--admin-port <port>', 'admin listener on 127.0.0.1: /ready, /config_dump, /metrics', Number, 15020)
    .option(
      '--admin-socket <path>',
      'also serve the admin listener on this Unix socket (owner only), and tell the control plane: how it collects stats and tap from a proxy in another network namespace',
      socketPathFlag('--admin-socket'),
    )
    .option('--xds-address <host:port>', 'the control plane xDS address (HOST:PORT or unix:PATH)', xdsTarget('--xds-address'), process.env.TRELLIS_XDS_ADDRESS ?? '127.0.0.1:15010')
    .option(
      '--ca-file <file>',
      `the mesh trust bundle that verifies the control plane (default: $${CA_FILE_ENV}, else ./trellis-data/ca/trust-bundle.pem if present; not needed for unix:PATH)`,
    )
    .option('--id <id>', 'node id (default: sidecar~ADDRESS:INBOUND_PORT~SERVICE.NAMESPACE)')
    .option('--join-token <token>', `the join token created for this service with trellis token create (default: $${JOIN_TOKEN_ENV})`)
    .option('--transparent', 'transparent mode: serve the capture ports that iptables redirects to (see trellis capture)')
    .option('--capture-inbound-port <port>', 'transparent mode: inbound capture port', Number, 15006)
    .option('--capture-outbound-port <port>', 'transparent mode: outbound capture port', Number, 15001)
    .option('--dns-port <port>', 'transparent mode: DNS responder port (UDP); 0 = no DNS responder', Number, 15053)
    .option(
      '--capture-exclude-inbound-ports <ports>',
      "transparent mode: inbound ports the capture rules exclude (the app answers them in plaintext); announced so callers' proxies do not dial them with mTLS",
      portList('--capture-exclude-inbound-ports'),
      [],
    )
    .option('--dns-upstream <host:port>', 'transparent mode: resolver for names outside the mesh (default: first nameserver of /etc/resolv.conf)', hostPort('--dns-upstream'))
    .option('--access-log-file <path>', 'write access log lines here instead of stdout (when the MeshConfig turns them on)');
  addLifecycleOptions(command, 'none')
    .addHelpText('after', '\nExample:\n  trellis proxy --service payments --inbound 15006:3000 --http-proxy-port 15001 --upstream ledger:8080=9001')
    .action(async (opts: Options & { joinToken?: string; caFile?: string }) => {
      const metadata = metadataFromFlags(opts);
      const dnsUpstream = opts.dnsUpstream ? parseHostPort(opts.dnsUpstream, '--dns-upstream') : undefined;
      await runProxyProcess('trellis proxy', metadata, opts, dnsUpstream ? { dnsUpstream: { address: dnsUpstream.host, port: dnsUpstream.port } } : {});
    });
}
