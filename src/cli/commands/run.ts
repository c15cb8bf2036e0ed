// `trellis run`: starts a proxy beside an application, waits until the proxy is ready, then
// starts the application with the environment it needs. On shutdown the proxy drains before
// the app stops; a proxy that dies is started again while the app keeps running.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runTransparent, type TransparentOptions } from './run-transparent.js';
import { superviseSidecar } from './sidecar-supervisor.js';
import { freePorts } from '../../common/free-port.js';
import { proxyArgv } from '../../common/self.js';
import { addLifecycleOptions, lifecycleArgv, supervision, type LifecycleOptions } from '../lifecycle-flags.js';
import { collectValid, xdsTarget, parseLabel, parseUpstream, type UpstreamFlag } from '../flags.js';

export interface RunOptions extends LifecycleOptions {
  service: string;
  namespace: string;
  port: number;
  label: string[];
  upstream: string[];
  inboundPort?: number;
  adminPort?: number;
  httpProxyPort?: number;
  address: string;
  xdsAddress: string;
  readyTimeout: number;
  joinToken?: string;
  caFile?: string;
  /** Stop the app and exit when the proxy exits, instead of restarting the proxy. */
  exitWithProxy?: boolean;
  /** The proxy's access log file (default: the proxy's stdout, which `trellis run` sends to its stderr). */
  accessLogFile?: string;
}

/** Environment variables an application gets: where its proxy is and how to reach upstreams. */
export function appEnvironment(opts: { appPort: number; httpProxyPort: number; upstreams: UpstreamFlag[] }): Record<string, string> {
  const proxy = `http://127.0.0.1:${opts.httpProxyPort}`;
  const env: Record<string, string> = {
    PORT: String(opts.appPort),
    HTTP_PROXY: proxy,
    http_proxy: proxy,
    // Local upstream listeners are on loopback and must not go through the HTTP proxy listener.
    NO_PROXY: 'localhost,127.0.0.1,::1',
    no_proxy: 'localhost,127.0.0.1,::1',
  };
  for (const u of opts.upstreams) {
    // Kubernetes-style service variables: PAYMENTS_SERVICE_HOST / PAYMENTS_SERVICE_PORT.
    const prefix = u.service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    env[`${prefix}_SERVICE_HOST`] = '127.0.0.1';
    env[`${prefix}_SERVICE_PORT`] = String(u.localPort);
  }
  return env;
}

/** Runs the proxy and the app; resolves with the exit code to use. */
export async function runWithSidecar(opts: RunOptions, command: string[]): Promise<number> {
  if (command.length === 0) throw new Error('no application command given (usage: trellis run --service NAME --port PORT -- COMMAND...)');
  const upstreams = opts.upstream.map(parseUpstream);
  const [inbound, admin, httpProxy] = await freePorts(3);
  const inboundPort = opts.inboundPort ?? inbound!;
  const adminPort = opts.adminPort ?? admin!;
  const httpProxyPort = opts.httpProxyPort ?? httpProxy!;
  const proxyArgs = [
    ...proxyArgv(),
    '--service',
    opts.service,
    '--namespace',
    opts.namespace,
    '--address',
    opts.address,
    '--inbound',
    `${inboundPort}:${opts.port}`,
    '--admin-port',
    String(adminPort),
    '--http-proxy-port',
    String(httpProxyPort),
    '--xds-address',
    opts.xdsAddress,
    ...(opts.caFile ? ['--ca-file', opts.caFile] : []),
    ...opts.label.flatMap((l) => ['--label', l]),
    ...opts.upstream.flatMap((u) => ['--upstream', u]),
    ...(opts.accessLogFile !== undefined ? ['--access-log-file', opts.accessLogFile] : []),
    ...lifecycleArgv(opts),
  ];
  return superviseSidecar(
    {
      proxyArgv: proxyArgs,
      adminPort,
      readyTimeout: opts.readyTimeout,
      appEnv: appEnvironment({ appPort: opts.port, httpProxyPort, upstreams }),
      ...supervision(opts),
      ...(opts.joinToken ? { joinToken: opts.joinToken } : {}),
    },
    command,
  );
}

function numberList(value: string, previous: number[]): number[] {
  const ports = value.split(',').filter(Boolean).map(Number);
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new InvalidArgumentError(`${value} is not valid: expected ports 1..65535, comma-separated`);
  return [...previous, ...ports];
}

export function register(program: Command): void {
  const command = program
    .command('run')
    .description(
      'run an application with its sidecar proxy: the proxy starts first, the app once the proxy is ready; on shutdown the proxy drains, then the app stops, then the proxy; a proxy that dies is started again',
    )
    .requiredOption('--service <name>', 'the service this workload belongs to')
    .requiredOption('--port <port>', "the application's port on 127.0.0.1 (passed to it as PORT)", Number)
    .option('-n, --namespace <ns>', 'namespace of the service', 'default')
    .option('--label <key=value>', 'workload label, e.g. version=v2 (repeatable)', collectValid(parseLabel), [])
    .option('--upstream <service[.ns]:port=localPort>', 'a local listener on 127.0.0.1:localPort for a Service port (repeatable)', collectValid(parseUpstream), [])
    .option('--inbound-port <port>', 'port the proxy listens on for inbound traffic (default: a free port)', Number)
    .option('--admin-port <port>', "the proxy's admin port (default: a free port)", Number)
    .option('--http-proxy-port <port>', 'port of the HTTP proxy listener given to the app as HTTP_PROXY (default: a free port)', Number)
    .option('--address <ip>', 'address other proxies use to reach this one', '127.0.0.1')
    .option('--xds-address <host:port>', 'the control plane xDS address (HOST:PORT or unix:PATH)', xdsTarget('--xds-address'), process.env.TRELLIS_XDS_ADDRESS ?? '127.0.0.1:15010')
    .option('--ca-file <file>', 'the mesh trust bundle that verifies the control plane (default: $TRELLIS_CA_FILE); passed to the proxy')
    .option('--access-log-file <path>', "the proxy's access log lines go here (when the MeshConfig turns them on; default: stderr, apart from the app's stdout)")
    .option('--ready-timeout <ms>', 'how long to wait for the proxy to be ready', Number, 30000)
    .option('--join-token <token>', 'the join token created for this service (default: $TRELLIS_JOIN_TOKEN); passed to the proxy, not to the app')
    .option('--exit-with-proxy', 'when the proxy exits, stop the app and exit (default: start the proxy again with backoff while the app keeps running)')
    .option('--transparent', 'transparent mode (Linux, root): run in --netns with iptables capture; the app needs no proxy settings')
    .option('--netns <name>', 'transparent mode: the network namespace of the workload')
    .option('--proxy-gid <gid>', 'transparent mode: group id the proxy runs with; its traffic is not captured', Number, 1337)
    .option('--dns-upstream <host:port>', "transparent mode: resolver for names outside the mesh (default: the namespace's resolv.conf)")
    .option('--exclude-inbound-ports <ports>', 'transparent mode: inbound ports not captured, comma-separated', numberList, [])
    .option('--exclude-outbound-ports <ports>', 'transparent mode: outbound ports not captured, comma-separated', numberList, [])
    .option(
      '--exclude-outbound-cidrs <cidrs>',
      'transparent mode: outbound ranges not captured, comma-separated',
      (v: string, prev: string[]) => [...prev, ...v.split(',').filter(Boolean)],
      [],
    )
    .option('--extra-port <port>', 'transparent mode: another port the application serves (repeatable)', (v: string, prev: number[]) => numberList(v, prev), [])
    .addOption(new Option('--in-netns').hideHelp());
  addLifecycleOptions(command, 'tcp')
    .argument('<command...>', 'the application command, after --')
    .addHelpText(
      'after',
      '\nExamples:\n  trellis run --service web --port 3000 --upstream payments:8080=9001 -- node server.js\n  trellis run --transparent --netns web1 --service web --port 8080 --xds-address unix:/run/trellis/xds.sock -- node server.js',
    )
    .action(async (command: string[], opts: TransparentOptions) => {
      process.exitCode = opts.transparent ? await runTransparent(opts, command) : await runWithSidecar(opts, command);
    });
}
