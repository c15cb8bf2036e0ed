// `trellis bootstrap --grpc`: joins a proxyless gRPC application to the mesh. Starts the agent
// (src/proxyless/agent.ts), which writes the gRPC bootstrap and the workload's certificates
// and relays the app's xDS stream; then either runs the app given after `--` with
// GRPC_XDS_BOOTSTRAP set, or runs until signalled (the app started apart with that variable).
// On SIGTERM/SIGINT the endpoint is reported draining, callers get the drain delay, then the
// app is stopped (SIGKILL after --drain-ms), then the agent, which removes the key file.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { exited, stopChild } from '../../common/child-process.js';
import { CA_FILE_ENV, readTrustBundle, trustBundleFile } from '../../common/control-plane-trust.js';
import { MAX_SOCKET_PATH_BYTES } from '../../common/listen-unix.js';
import { parseProxyMetadata, proxyMetadataToStruct, structToJson, type ProxyMetadata } from '../../xds/node-metadata.js';
import { startAgent, type RunningAgent } from '../../proxyless/agent.js';
import { parseLocality, type Locality } from '../../proxyless/bootstrap-file.js';
import { addLifecycleOptions, sidecarLifecycle, type LifecycleOptions } from '../lifecycle-flags.js';
import { collectValid, parseLabel, portList, xdsTarget } from '../flags.js';
import { JOIN_TOKEN_ENV } from './proxy.js';

interface Options extends LifecycleOptions {
  grpc?: boolean;
  service: string;
  namespace: string;
  label: string[];
  port: number[];
  address: string;
  xdsAddress: string;
  caFile?: string;
  joinToken?: string;
  dir?: string;
  nodeId?: string;
  locality?: Locality;
}

/** The environment variable gRPC reads its xDS bootstrap from. */
export const GRPC_XDS_BOOTSTRAP_ENV = 'GRPC_XDS_BOOTSTRAP';
/**
 * grpc-js-xds 1.14 refuses server listeners with RBAC filters unless this is `true` (A41 is
 * still behind a flag there), and a server that refuses its listener never serves: so an app we
 * start gets it, unless the operator set it.
 */
const GRPC_RBAC_ENV = 'GRPC_XDS_EXPERIMENTAL_RBAC';

/** The node metadata of a proxyless gRPC workload: its server's ports are its own inbound entries. */
export function grpcMetadata(o: Pick<Options, 'service' | 'namespace' | 'label' | 'port' | 'address'>): ProxyMetadata {
  return {
    kind: 'grpc',
    service: o.service,
    namespace: o.namespace,
    labels: Object.fromEntries(o.label.map(parseLabel)),
    address: o.address,
    inbound: o.port.map((p) => ({ port: p, appPort: p })),
    upstreams: [],
  };
}

/** `grpc~ADDRESS:PORT~SERVICE.NAMESPACE`; a client-only app (no port) adds the process id, so two on one host differ. */
export function defaultGrpcNodeId(m: ProxyMetadata, pid = process.pid): string {
  const port = m.inbound[0]?.port;
  return port !== undefined ? `grpc~${m.address}:${port}~${m.service}.${m.namespace}` : `grpc~${m.address}~${m.service}.${m.namespace}~${pid}`;
}

/** A new directory under $TMPDIR named after the service and node id, short enough for the socket inside it. */
async function defaultDir(service: string, nodeId: string): Promise<string> {
  const base = os.tmpdir();
  // base/trellis-grpc-NAME-XXXXXX/xds.sock within the socket address limit.
  const room = MAX_SOCKET_PATH_BYTES - Buffer.byteLength(base) - '/trellis-grpc--XXXXXX/xds.sock'.length;
  const name = `${service}-${nodeId.replace(/[^A-Za-z0-9._-]+/g, '_')}`.slice(0, Math.max(0, room));
  return mkdtemp(path.join(base, `trellis-grpc-${name}-`));
}

const locality = (value: string): Locality => {
  const l = parseLocality(value);
  if (!l) throw new InvalidArgumentError(`--locality=${value} is not valid: expected REGION[/ZONE[/SUB_ZONE]], e.g. eu-west/eu-west-1a`);
  return l;
};

/** Runs the agent, and the app if one is given; resolves with the exit code to use. */
export async function runBootstrap(opts: Options, command: string[]): Promise<number> {
  if (!opts.grpc) throw new Error('bootstrap needs --grpc (the only kind of bootstrap it writes: for a proxyless gRPC application)');
  const metadata = grpcMetadata(opts);
  const checked = parseProxyMetadata(structToJson(proxyMetadataToStruct(metadata)));
  if (!checked.ok) throw new Error(`the flags do not make valid node metadata: ${checked.error.join('; ')}`);
  const joinToken = opts.joinToken ?? process.env[JOIN_TOKEN_ENV];
  if (!joinToken) process.stderr.write(`trellis bootstrap: no join token (--join-token or $${JOIN_TOKEN_ENV}); the control plane will refuse this workload\n`);
  const caFile = trustBundleFile(opts.caFile);
  const nodeId = opts.nodeId ?? defaultGrpcNodeId(metadata);
  let dir = opts.dir === undefined ? undefined : path.resolve(opts.dir);
  if (dir === undefined) {
    try {
      dir = await defaultDir(opts.service, nodeId);
    } catch (e) {
      throw new Error(`cannot make a directory under ${os.tmpdir()} (set TMPDIR or --dir): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const lifecycle = sidecarLifecycle(opts);
  const agent = await startAgent({
    id: nodeId,
    metadata,
    ...(opts.locality ? { locality: opts.locality } : {}),
    xdsAddress: opts.xdsAddress,
    ...(caFile !== undefined ? { controlPlaneRoots: readTrustBundle(caFile) } : {}),
    ...(joinToken ? { joinToken } : {}),
    dir,
    removeDirOnClose: opts.dir === undefined,
    ...(lifecycle.readiness ? { readiness: lifecycle.readiness } : {}),
    drainDelayMs: opts.drainDelayMs,
    say: (line) => process.stderr.write(`trellis bootstrap: ${line}\n`),
  });
  return supervise(agent, opts, nodeId, command);
}

async function supervise(agent: RunningAgent, opts: Options, nodeId: string, command: string[]): Promise<number> {
  let signalled: NodeJS.Signals | undefined;
  let onStop: (s: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => (onStop = resolve));
  let app: ReturnType<typeof spawn> | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    if (signalled !== undefined) {
      // A repeated signal does not wait for the drain.
      agent.hurry();
      return stopChild(app, s);
    }
    signalled = s;
    onStop(s);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if ((await Promise.race([agent.ready.then(() => 'ready' as const), stopped])) !== 'ready') return 130;
    const bootstrap = agent.files.bootstrap;
    process.stdout.write(
      `trellis bootstrap: node ${nodeId} of ${opts.service}.${opts.namespace} ready; set ${GRPC_XDS_BOOTSTRAP_ENV}=${bootstrap} (and ${GRPC_RBAC_ENV}=true for a grpc-js server)\n`,
    );
    if (command.length === 0) {
      await stopped;
      await agent.drain();
      return 0;
    }
    // Never the join token: the app gets its bootstrap and, through the files, its own certificate only.
    const { [JOIN_TOKEN_ENV]: _token, ...env } = process.env;
    const running = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { [GRPC_RBAC_ENV]: 'true', ...env, [GRPC_XDS_BOOTSTRAP_ENV]: bootstrap } });
    app = running;
    running.on('error', (e) => process.stderr.write(`trellis bootstrap: cannot start ${command[0]}: ${e.message}\n`));
    const appExit = exited(running);
    const first = await Promise.race([appExit.then((code) => ({ code })), stopped.then((signal) => ({ signal }))]);
    if ('code' in first) return first.code;
    await agent.drain();
    stopChild(running, first.signal);
    const kill = setTimeout(() => stopChild(running, 'SIGKILL'), opts.drainMs);
    const code = await appExit;
    clearTimeout(kill);
    // Asked to stop: ending on that signal is a clean exit.
    return running.signalCode === first.signal ? 0 : code;
  } catch (e) {
    stopChild(app, 'SIGKILL');
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await agent.close();
  }
}

export function register(program: Command): void {
  const command = program
    .command('bootstrap')
    .description(
      'join a proxyless gRPC application (@grpc/grpc-js-xds, grpc-go, ...) to the mesh: writes its xDS bootstrap, keeps its certificates on disk, relays its xDS stream to the control plane; runs the app given after -- with GRPC_XDS_BOOTSTRAP set',
    )
    .option('--grpc', 'write a gRPC xDS bootstrap (required: the only kind there is)')
    .requiredOption('--service <name>', 'the service this workload belongs to')
    .option('-n, --namespace <ns>', 'namespace of the service', 'default')
    .option('--label <key=value>', 'workload label, e.g. version=v2 (repeatable)', collectValid(parseLabel), [])
    .option('--port <port>', "a port the application's gRPC server listens on (repeatable; none for a client-only app)", portList('--port'), [])
    .option('--address <ip>', 'address others dial the application on', '127.0.0.1')
    .option('--xds-address <host:port>', 'the control plane xDS address (HOST:PORT or unix:PATH)', xdsTarget('--xds-address'), process.env.TRELLIS_XDS_ADDRESS ?? '127.0.0.1:15010')
    .option('--ca-file <file>', `the mesh trust bundle that verifies the control plane (default: $${CA_FILE_ENV}; not needed for unix:PATH)`)
    .option('--join-token <token>', `the join token created for this service (default: $${JOIN_TOKEN_ENV}); kept by the agent, never given to the app`)
    .option('--dir <dir>', 'where the bootstrap, the xDS socket and the certificates go; kept on exit, except the key (default: a new directory under $TMPDIR, removed on exit)')
    .option('--node-id <id>', 'node id (default: grpc~ADDRESS:PORT~SERVICE.NAMESPACE)')
    .option('--locality <region[/zone[/sub_zone]]>', "the node's locality in the bootstrap", locality);
  addLifecycleOptions(command, 'tcp')
    .argument('[command...]', 'the application command, after --')
    .addHelpText(
      'after',
      '\n--readiness-probe checks the first --port; --drain-ms bounds how long the app may take to stop after SIGTERM.\n\nExamples:\n  trellis bootstrap --grpc --service payments --port 50051 -- node server.js\n  trellis bootstrap --grpc --service web --dir /run/web-grpc   # then GRPC_XDS_BOOTSTRAP=/run/web-grpc/bootstrap.json node client.js',
    )
    .action(async (command: string[], opts: Options) => {
      process.exitCode = await runBootstrap(opts, command);
    });
}
