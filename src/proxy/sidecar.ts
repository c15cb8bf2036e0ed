// Composes one sidecar proxy: the xDS client feeds RuntimeConfigs to the data plane, and the
// admin listener (on 127.0.0.1, and on a Unix socket when asked) reports readiness, the config
// in effect and metrics.
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { listen } from '../common/listen.js';
import { listenUnix } from '../common/listen-unix.js';
import { otlpSocketBeside, xdsSocketOf } from '../xds/unix-sockets.js';
import { createLogger } from '../common/log.js';
import type { ProxyMetadata } from '../xds/node-metadata.js';
import { createAdminServer } from './admin/admin-server.js';
import { DataPlane } from './data-plane.js';
import { registerMeshHealthMetrics } from './metrics/mesh-health.js';
import { registerProcessMetrics } from './metrics/process-metrics.js';
import { ProxyMetrics } from './metrics/proxy-metrics.js';
import { ProxyTelemetry, workloadName } from './telemetry/proxy-telemetry.js';
import { XdsClient } from './xds/xds-client.js';
import { ProxyIdentity } from './identity/proxy-identity.js';
import { GatewayCertificates } from './identity/gateway-certificates.js';
import { loadOriginalDst } from './capture/original-dst.js';
import { meshNames, startDnsResponder, type DnsResponder } from './dns/dns-responder.js';
import { appProbe, type ProbeSpec } from './readiness/app-probe.js';
import { ReadinessTracker } from './readiness/readiness-tracker.js';
import { endpointDrain } from './readiness/endpoint-drain.js';

const log = createLogger('proxy');

export interface SidecarOptions {
  /** Unique among connected proxies; a restarted proxy with the same id is the same workload. */
  id: string;
  metadata: ProxyMetadata;
  /** `host:port` of the control plane's xDS server. */
  xdsAddress: string;
  /** How long open connections may finish when the proxy stops (default 5000 ms). */
  drainMs?: number;
  /** The join token the operator created for this service (`trellis token create --service NAME`). */
  joinToken?: string;
  /**
   * The mesh trust bundle (PEM) that verifies the control plane's certificate; required for a
   * TCP xDS address (the control plane serves xDS over TLS), unused for a Unix socket.
   */
  controlPlaneRoots?: string;
  /** Fraction of a workload certificate's lifetime after which it is renewed (default 0.5). */
  rotateAt?: number;
  /** Transparent mode: where the DNS responder forwards names that are not the mesh's (default: /etc/resolv.conf). */
  dnsUpstream?: { address: string; port: number };
  /** Where access log lines go when the mesh turns them on: a path, or stdout (default). */
  accessLogFile?: string;
  /** The app's readiness check, on the first inbound entry's app port (default none: ready once the sidecar serves). */
  readiness?: ReadinessOptions;
  /** How long callers get to drop the withdrawn endpoint before inbound listeners stop accepting (default 2000 ms). */
  drainDelayMs?: number;
}

export interface ReadinessOptions {
  probe: ProbeSpec;
  /** Between checks while the app is ready (default 1000 ms). */
  periodMs?: number;
  /** One check's limit (default 1000 ms). */
  timeoutMs?: number;
  /** Failed checks in a row that withdraw the endpoint (default 3). */
  failureThreshold?: number;
}

export interface RunningSidecar {
  adminPort: number;
  /**
   * Withdraws the endpoint (the control plane tells callers), waits the drain delay, then stops
   * accepting inbound connections and lets open ones finish (up to drainMs). Outbound keeps
   * serving the app. Idempotent; close() drains first if this was not called.
   */
  drain(): Promise<void>;
  /** Ends the drain delay now (a repeated stop signal: the operator does not want to wait). */
  hurry(): void;
  close(): Promise<void>;
}

/** The default node id: the address and port other proxies reach this one on, and the service. */
export function defaultNodeId(m: ProxyMetadata): string {
  return `${m.kind === 'gateway' ? 'gateway' : 'sidecar'}~${m.address}:${m.inbound[0]?.port ?? m.adminPort}~${m.service}.${m.namespace}`;
}

/**
 * TLS to the control plane: its certificate must chain to the given roots or to those the mesh
 * delivered since over SDS (so a root rotation does not cut the proxy off at its next reconnect).
 */
export function xdsCredentials(given: string | undefined, delivered: string | undefined): grpc.ChannelCredentials {
  const roots = (given ?? '') + (delivered ?? '');
  if (roots === '') throw new Error('no mesh trust bundle to verify the control plane with');
  return grpc.credentials.createSsl(Buffer.from(roots));
}

export async function startSidecar(opts: SidecarOptions): Promise<RunningSidecar> {
  if (!opts.xdsAddress.startsWith('unix:') && opts.controlPlaneRoots === undefined) {
    throw new Error(
      `the control plane serves xDS at ${opts.xdsAddress} over TLS: give the proxy the mesh trust bundle (--ca-file, or $TRELLIS_CA_FILE; <data-dir>/ca/trust-bundle.pem on the control plane's host)`,
    );
  }
  // Transparent mode cannot route a captured connection without its original destination: fail now, clearly.
  if (opts.metadata.capture) loadOriginalDst();
  const identity = await ProxyIdentity.create(createLogger('proxy.identity'), opts.rotateAt);
  const metrics = new ProxyMetrics();
  const m = opts.metadata;
  const xdsSocket = xdsSocketOf(opts.xdsAddress);
  const telemetry = new ProxyTelemetry({
    identity: { service: `${m.service}.${m.namespace}`, serviceName: m.service, namespace: m.namespace, workload: workloadName(m.service, m.labels), nodeId: opts.id },
    metrics,
    ...(opts.accessLogFile !== undefined ? { accessLogTarget: opts.accessLogFile } : {}),
    ...(opts.controlPlaneRoots !== undefined ? { collectorCa: opts.controlPlaneRoots } : {}),
    collectorClientTls: () => identity.contextOptions(),
    // Reaching xDS through a socket means the control plane's TCP address may be out of reach (another network namespace).
    ...(xdsSocket !== undefined ? { controlPlaneSpanSocket: otlpSocketBeside(xdsSocket) } : {}),
    logger: createLogger('proxy.telemetry'),
  });
  // A gateway's HTTPS listeners terminate TLS with certificates its control plane sends it over SDS.
  const gatewayCertificates = m.kind === 'gateway' ? new GatewayCertificates() : undefined;
  const dataPlane = new DataPlane({
    metrics,
    telemetry,
    logger: createLogger('proxy.data-plane'),
    drainGraceMs: opts.drainMs,
    tls: identity,
    ...(gatewayCertificates ? { gatewayCertificates } : {}),
  });
  const xds = new XdsClient({
    identity,
    ...(gatewayCertificates ? { gatewayCertificates } : {}),
    ...(opts.joinToken ? { joinToken: opts.joinToken } : {}),
    ...(opts.xdsAddress.startsWith('unix:') ? {} : { credentials: () => xdsCredentials(opts.controlPlaneRoots, identity.trustBundlePem) }),
    server: opts.xdsAddress,
    node: { id: opts.id, cluster: opts.metadata.service, metadata: opts.metadata },
    logger: createLogger('proxy.xds-client'),
    onConfig: async (config) => {
      const result = await dataPlane.apply(config);
      // Once the client has taken the config in (warm): the endpoint is reported ready only with it in effect.
      setImmediate(() => readiness.update());
      if (result.ok) return { ok: true };
      // A listener that cannot bind is refused (NACK) with the reason; the others keep serving.
      const reasons = result.failed.map((f) => `listener ${f.listener} on ${f.address}:${f.port}: ${f.reason}`);
      log.error({ failed: result.failed }, 'could not bind every listener');
      return { ok: false, message: reasons.join('; ') };
    },
  });
  // The sidecar's own health beside its traffic on /metrics.
  const stopProcessMetrics = registerProcessMetrics(metrics.registry);
  registerMeshHealthMetrics(metrics.registry, {
    xds: () => xds.healthByType(),
    certificateNotAfterMs: () => {
      const notAfter = identity.status().notAfter;
      return notAfter === undefined ? undefined : Date.parse(notAfter);
    },
  });
  const probe = opts.readiness;
  const appPort = m.inbound[0]?.appPort;
  const readiness = new ReadinessTracker({
    ...(probe && appPort !== undefined ? { probe: appProbe(probe.probe, appPort, probe.timeoutMs ?? 1000) } : {}),
    sidecarServes: () => xds.ready(),
    report: (state, reason) => {
      log.info({ readiness: state, reason }, `endpoint ${state}${reason ? `: ${reason}` : ''}`);
      xds.reportReadiness(state);
    },
    periodMs: probe?.periodMs ?? 1000,
    failureThreshold: probe?.failureThreshold ?? 3,
  });
  const drainMs = opts.drainMs ?? 5000;
  const { drain, hurry } = endpointDrain({ readiness, delayMs: opts.drainDelayMs ?? 2000, drainInbound: () => dataPlane.drainInbound(drainMs) });
  const admin = createAdminServer({
    drain,
    ready: () => {
      if (xds.ready()) return { ok: true };
      const st = xds.status();
      if (!st.connected) return { ok: false, reason: `not connected to the control plane at ${opts.xdsAddress}${st.lastError ? `: ${st.lastError}` : ''}` };
      return { ok: false, reason: identity.ready() ? 'waiting for the first complete config' : 'waiting for the workload certificate' };
    },
    configDump: () => ({
      node: { id: opts.id, metadata: opts.metadata },
      endpoint: readiness.status(),
      xds: xds.status(),
      identity: identity.status(),
      listeners: dataPlane.listeners(),
      ...xds.dump(),
    }),
    metrics,
    stats: () => dataPlane.stats(),
    tap: telemetry.tap,
  });
  const adminPort = await listen(admin, '127.0.0.1', opts.metadata.adminPort ?? 0, 'the admin listener');
  // The same admin on a Unix socket, for a control plane in another network namespace (it reads the path from our metadata).
  const adminSocketPath = opts.metadata.adminSocket;
  const adminSocket = adminSocketPath === undefined ? undefined : net.createServer((socket) => admin.emit('connection', socket));
  if (adminSocket !== undefined && adminSocketPath !== undefined) {
    await listenUnix(adminSocket, adminSocketPath, 'the admin listener').catch((e: Error) => {
      admin.close();
      throw e;
    });
  }
  let dns: DnsResponder | undefined;
  const dnsPort = opts.metadata.capture?.dnsPort;
  if (dnsPort !== undefined) {
    let namesOf = dataPlane.config;
    let names = meshNames(namesOf);
    const current = () => {
      if (dataPlane.config !== namesOf) names = meshNames((namesOf = dataPlane.config));
      return names;
    };
    dns = await startDnsResponder({ port: dnsPort, names: current, ...(opts.dnsUpstream ? { upstream: opts.dnsUpstream } : {}), logger: createLogger('proxy.dns') }).catch(
      (e: Error) => {
        admin.close();
        adminSocket?.close();
        throw e;
      },
    );
  }
  readiness.start();
  xds.start();
  return {
    adminPort,
    drain,
    hurry,
    close: async () => {
      await drain();
      readiness.close();
      xds.close();
      identity.close();
      stopProcessMetrics();
      admin.closeAllConnections();
      admin.close();
      adminSocket?.close(); // removes the socket file
      await dns?.close();
      await dataPlane.close(drainMs);
      await telemetry.close();
    },
  };
}
