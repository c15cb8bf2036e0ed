// The agent beside a proxyless gRPC application (`trellis bootstrap --grpc`): it holds the
// workload's join token and key, writes the gRPC bootstrap, keeps the certificate, key and
// mesh roots fresh on disk for gRPC's file watcher, relays the app's xDS stream to the control
// plane over a Unix socket, and reports the endpoint's readiness from the same app probe the
// sidecar uses. The app gets nothing secret but its own service's certificate and key.
import { mkdir, rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { createLogger } from '../common/log.js';
import type { ProxyMetadata } from '../xds/node-metadata.js';
import { ProxyIdentity } from '../proxy/identity/proxy-identity.js';
import { appProbe } from '../proxy/readiness/app-probe.js';
import { endpointDrain } from '../proxy/readiness/endpoint-drain.js';
import { ReadinessTracker } from '../proxy/readiness/readiness-tracker.js';
import { xdsCredentials, type ReadinessOptions } from '../proxy/sidecar.js';
import { agentFiles, bootstrapText, type AgentFiles, type Locality } from './bootstrap-file.js';
import { CertFiles } from './cert-files.js';
import { ControlPlaneStream, type StreamEnd } from './control-plane-stream.js';
import { AppXdsServer } from './app-xds-server.js';

const log = createLogger('proxyless.agent');

/** Codes the control plane refuses a stream with for good (a token, an identity or metadata that is wrong). */
const REFUSALS: ReadonlySet<grpc.status> = new Set([grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.INVALID_ARGUMENT]);

export interface AgentOptions {
  id: string;
  /** kind `grpc`: the ports the app's server listens on as inbound entries with port === appPort. */
  metadata: ProxyMetadata;
  locality?: Locality;
  /** The control plane's xDS address: `host:port` (TLS, verified with controlPlaneRoots) or `unix:PATH`. */
  xdsAddress: string;
  controlPlaneRoots?: string;
  joinToken?: string;
  dir: string;
  /** Remove the whole directory on close (one the agent made); otherwise only the key file goes. */
  removeDirOnClose: boolean;
  /** The app's readiness check, on the first inbound port (none: ready once the certificates are on disk). */
  readiness?: ReadinessOptions;
  /** How long callers get to drop the endpoint once it is draining. */
  drainDelayMs: number;
  /** Fraction of a certificate's lifetime after which it is renewed (default 0.5). */
  rotateAt?: number;
  /** Lines for the operator (waiting for the control plane, refusals). */
  say?: (line: string) => void;
}

export interface RunningAgent {
  files: AgentFiles;
  /** Resolves once the certificates are on disk; rejects when the control plane refuses the agent (token, identity). */
  ready: Promise<void>;
  /** Reports the endpoint draining and waits the drain delay (idempotent). */
  drain(): Promise<void>;
  /** Ends the drain delay now. */
  hurry(): void;
  /** Stops relaying, removes the key file (or the whole directory); idempotent. */
  close(): Promise<void>;
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const tcp = !o.xdsAddress.startsWith('unix:');
  if (tcp && o.controlPlaneRoots === undefined) {
    throw new Error(`the control plane serves xDS at ${o.xdsAddress} over TLS: give the agent the mesh trust bundle (--ca-file, or $TRELLIS_CA_FILE)`);
  }
  const files = agentFiles(o.dir);
  try {
    await mkdir(files.dir, { recursive: true, mode: 0o700 });
    await mkdir(files.certsDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(files.bootstrap, bootstrapText({ files, nodeId: o.id, metadata: o.metadata, ...(o.locality ? { locality: o.locality } : {}) }), 0o644);
  } catch (e) {
    throw new Error(`cannot write the agent's directory ${o.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const say = o.say ?? (() => {});
  const identity = await ProxyIdentity.create(createLogger('proxyless.identity'), o.rotateAt);
  const certs = new CertFiles(files);
  let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  ready.catch(() => {});
  const onEnded = (end: StreamEnd) => {
    const refused = REFUSALS.has(end.code);
    if (refused && !certs.written) return settle?.reject(new Error(`the control plane at ${o.xdsAddress} refused the agent: ${end.reason}`));
    if (refused) say(`the control plane at ${o.xdsAddress} refused the agent: ${end.reason}; retrying (the app keeps its certificates and config)`);
    else say(`${certs.written ? 'lost' : 'cannot reach'} the control plane at ${o.xdsAddress} (${end.reason}); retrying`);
  };
  const upstream = new ControlPlaneStream({
    server: o.xdsAddress,
    ...(tcp ? { credentials: () => xdsCredentials(o.controlPlaneRoots, identity.trustBundlePem) } : {}),
    ...(o.joinToken ? { joinToken: o.joinToken } : {}),
    node: { id: o.id, metadata: o.metadata, ...(o.locality ? { locality: o.locality } : {}) },
    identity,
    onSecrets: async () => {
      const c = identity.contextOptions();
      if (c === undefined) return;
      await certs.write({ chainPem: String(c.cert), keyPem: String(c.key), rootsPem: String(c.ca) });
      settle?.resolve();
      setImmediate(() => readiness.update());
    },
    onEnded,
    logger: createLogger('proxyless.control-plane-stream'),
  });
  const server = new AppXdsServer({ socketPath: files.socket, upstream, logger: createLogger('proxyless.app-xds-server') });
  const probe = o.readiness;
  const appPort = o.metadata.inbound[0]?.appPort;
  const readiness = new ReadinessTracker({
    ...(probe && appPort !== undefined ? { probe: appProbe(probe.probe, appPort, probe.timeoutMs ?? 1000) } : {}),
    sidecarServes: () => certs.written,
    report: (state, reason) => {
      log.info({ readiness: state, reason }, `endpoint ${state}${reason ? `: ${reason}` : ''}`);
      upstream.reportReadiness(state);
    },
    periodMs: probe?.periodMs ?? 1000,
    failureThreshold: probe?.failureThreshold ?? 3,
  });
  const { drain, hurry } = endpointDrain({ readiness, delayMs: o.drainDelayMs, drainInbound: async () => {} });
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      readiness.close();
      await server.close();
      upstream.close();
      identity.close();
      await certs.removeKey();
      if (o.removeDirOnClose) await rm(files.dir, { recursive: true, force: true });
    })());
  try {
    await server.listen();
  } catch (e) {
    identity.close();
    if (o.removeDirOnClose) await rm(files.dir, { recursive: true, force: true });
    throw e;
  }
  upstream.start();
  readiness.start();
  return { files, ready, drain, hurry, close };
}
