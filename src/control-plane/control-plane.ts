// Composes the control plane: the embedded store, the in-memory mesh state that follows it,
// the workload registry, the xDS server and the REST API.
import { rmSync } from 'node:fs';
import https from 'node:https';
import { parseResource } from '../api/parse.js';
import { DEFAULT_OTLP_PROTOCOL, type OtlpProtocol } from '../api/telemetry.js';
import { listen } from '../common/listen.js';
import { createLogger } from '../common/log.js';
import { MeshStateCache } from './mesh-state-cache.js';
import { resourceStatus } from './gateway-status.js';
import { readWorkloadsFile, RegistryFile, WorkloadRegistry } from './registry/index.js';
import { createRestApi } from './rest-api/index.js';
import { openFileStore, type FileStore } from './store/index.js';
import { createTelemetryApi, serveSpanSocket, SpanStore, StatsCollector } from './telemetry/index.js';
import { otlpSocketBeside } from '../xds/unix-sockets.js';
import { createDashboardHandler } from '../dashboard/index.js';
import { ControlPlaneMetrics } from './metrics/control-plane-metrics.js';
import { withWriteTiming } from './metrics/store-write-timing.js';
import { XdsServer } from './xds-server/index.js';
import path from 'node:path';
import { TokenStore } from './auth/index.js';
import { CertificateAuthority, type SuppliedCa } from './ca/index.js';
import { workloadIdentity } from './workload-identity.js';
import { securedRestApi } from './rest-api/security-api.js';
import { DEFAULT_TRUST_DOMAIN } from '../xds/spiffe.js';
import { VirtualIpAllocator } from './virtual-ips/allocator.js';
import { ServingTls } from './serving-tls.js';
import { JwksCache } from './jwks/jwks-cache.js';

const log = createLogger('control-plane');

export interface ControlPlaneOptions {
  dataDir: string;
  api: { host: string; port: number };
  xds: { host: string; port: number };
  /** SPIFFE trust domain of the mesh (default trellis.local). */
  trustDomain?: string;
  /** Lifetime of workload certificates (default 24 h). */
  workloadCertTtlSeconds?: number;
  /** An operator-supplied CA, used when the data dir has none yet. */
  ca?: SuppliedCa;
  /** Also serve xDS on this Unix socket (for proxies in other network namespaces), and the span receiver beside it (see otlpSocketBeside). */
  xdsSocket?: string;
  /** How often proxies' request stats are collected (default 1000 ms). */
  collectIntervalMs?: number;
  /** A collector the received spans are forwarded to: an OTLP/HTTP base URL, or for grpc the endpoint (http://otel:4317). */
  forwardSpansTo?: string;
  /** How they are forwarded (default http/protobuf, as OpenTelemetry's exporters). */
  forwardSpansProtocol?: OtlpProtocol;
  /** The largest xDS response sent (default XDS_MAX_MESSAGE_BYTES); see XdsServerDeps.maxMessageBytes. */
  xdsMaxMessageBytes?: number;
  /** How often RequestAuthentications' JWK Sets (jwksUri, jwksFile) are obtained again (default 20 min). */
  jwksRefreshMs?: number;
}

export interface RunningControlPlane {
  apiUrl: string;
  xdsAddress: string;
  store: FileStore;
  ca: CertificateAuthority;
  tokens: TokenStore;
  /** The admin token, only on the first start (it is shown once and stored hashed). */
  adminToken?: string;
  /** The mesh roots, PEM: what clients verify the API's and xDS's certificate with. */
  trustBundleFile: string;
  close(): Promise<void>;
}

/** Opens the store and starts serving; throws with a clear message when something cannot start. */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const opened = await openFileStore({ dataDir: opts.dataDir, logger: createLogger('control-plane.store') });
  // The code leads the message: operators and scripts match on STORE_CORRUPT, STORE_LOCKED, STORE_IO.
  if (!opened.ok) throw new Error(`${opened.error.code}: ${opened.error.message}`);
  const store = opened.value;
  const cleanups: (() => Promise<void> | void)[] = [() => store.close()];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    const ca = await CertificateAuthority.open({ dir: path.join(opts.dataDir, 'ca'), trustDomain, workloadTtlSeconds: opts.workloadCertTtlSeconds, supplied: opts.ca });
    const tokens = await TokenStore.open(opts.dataDir);
    const servingTls = await ServingTls.start({ ca, dataDir: opts.dataDir, listenHosts: [opts.api.host, opts.xds.host], logger: createLogger('control-plane.tls') });
    cleanups.push(() => servingTls.close());
    const adminToken = tokens.hasAdmin() ? undefined : (await tokens.create('admin')).token;
    let xds: XdsServer | undefined;
    const metrics = new ControlPlaneMetrics({ proxies: () => xds?.proxies() ?? [], storeRevision: () => store.revision(), caSigned: () => ca.signed });
    const vips = new VirtualIpAllocator(opts.dataDir, createLogger('control-plane.virtual-ips'));
    /** Our own OTLP receiver, known once the API is bound; proxies export there unless MeshConfig names a collector. */
    let defaultCollector: string | undefined;
    const jwks = new JwksCache({
      ...(opts.jwksRefreshMs !== undefined ? { refreshMs: opts.jwksRefreshMs } : {}),
      onChange: () => xds?.onConfigChanged(),
      logger: createLogger('control-plane.jwks'),
    });
    cleanups.push(() => jwks.close());
    const cache = await MeshStateCache.open(
      store,
      () => {
        jwks.sync(cache.state.requestAuthentications ?? []);
        xds?.onConfigChanged();
      },
      vips,
    );
    cleanups.push(() => cache.close());
    jwks.sync(cache.state.requestAuthentications ?? []);
    const registry = new WorkloadRegistry({ gracePeriodSeconds: () => cache.state.meshConfig.workloadGracePeriodSeconds });
    cleanups.push(() => registry.close());
    // Workloads registered before a restart keep their endpoints while their proxies reconnect.
    registry.restore(await readWorkloadsFile(opts.dataDir, createLogger('control-plane.registry')));
    const registryFile = new RegistryFile(opts.dataDir, registry, createLogger('control-plane.registry'));
    cleanups.push(() => registryFile.close());
    xds = new XdsServer({
      registry,
      getState: () => ({ ...cache.state, jwks: jwks.snapshot, ...(defaultCollector !== undefined ? { defaultCollector } : {}) }),
      logger: createLogger('control-plane.xds'),
      security: workloadIdentity(ca, tokens),
      trustDomain,
      credentials: servingTls.grpcCredentials(),
      ...(opts.xdsMaxMessageBytes !== undefined ? { maxMessageBytes: opts.xdsMaxMessageBytes } : {}),
      metrics: metrics.xds,
    });
    const server = xds;
    cleanups.push(() => server.close());
    const xdsPort = await xds.listen(opts.xds.host, opts.xds.port).catch((e: Error) => {
      throw new Error(`cannot serve xDS on ${opts.xds.host}:${opts.xds.port}: ${e.message}`);
    });
    if (opts.xdsSocket !== undefined) {
      const socket = opts.xdsSocket;
      await server.listenUnix(socket).catch((e: Error) => {
        throw new Error(`cannot serve xDS on the Unix socket ${socket}: ${e.message}`);
      });
      cleanups.push(() => rmSync(socket, { force: true }));
    }

    const collector = new StatsCollector({
      proxies: () => server.proxies(),
      ...(opts.collectIntervalMs !== undefined ? { intervalMs: opts.collectIntervalMs } : {}),
      logger: createLogger('control-plane.telemetry'),
    });
    cleanups.push(() => collector.stop());
    const telemetry = createTelemetryApi({
      collector,
      spans: new SpanStore(),
      proxies: () => server.proxies(),
      ...(opts.forwardSpansTo !== undefined ? { forward: { to: opts.forwardSpansTo, protocol: opts.forwardSpansProtocol ?? DEFAULT_OTLP_PROTOCOL } } : {}),
      logger: createLogger('control-plane.telemetry'),
    });
    if (opts.xdsSocket !== undefined) {
      // Sidecars that reach xDS through the socket send their spans through the one beside it.
      cleanups.push(await serveSpanSocket(otlpSocketBeside(opts.xdsSocket), telemetry));
    }
    const dashboard = createDashboardHandler();
    // Operator tokens guard every API route (resources, CA, tokens, telemetry); sidecars post
    // their spans with their workload certificate. The dashboard's static files are open.
    const restApi = createRestApi({
      store: withWriteTiming(store, (s) => metrics.observeStoreWrite(s)),
      parseResource,
      proxies: () => server.proxies(),
      statusOf: (r) => resourceStatus(cache.state, () => server.proxies(), r),
    });
    const secured = securedRestApi(
      (req, res) => {
        if (!metrics.serve(req, res) && !telemetry(req, res)) restApi(req, res);
      },
      { ca, tokens, workloadPaths: ['/v1/traces'] },
    );
    // Client certificates are asked for, not required: only sidecars have one (for /v1/traces).
    const tlsOptions = () => ({ key: servingTls.current.keyPem, cert: servingTls.current.certChainPem, ca: ca.trustBundlePem(), minVersion: 'TLSv1.2' as const });
    const api = https.createServer({ ...tlsOptions(), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      try {
        metrics.observe(req, res);
        if (!dashboard(req, res)) secured(req, res);
      } catch (e) {
        // A bug in one handler answers 500; it never takes the control plane down.
        log.error({ err: e, path: req.url }, 'a request handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    });
    api.keepAliveTimeout = 5000;
    servingTls.onChange(() => api.setSecureContext(tlsOptions()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          api.close(() => resolve());
          api.closeAllConnections();
        }),
    );
    const apiPort = await listen(api, opts.api.host, opts.api.port, 'the REST API');
    defaultCollector = `https://${opts.api.host.includes(':') ? `[${opts.api.host}]` : opts.api.host}:${apiPort}`;
    server.onConfigChanged(); // proxies that connected before the API was bound get the collector now
    collector.start();
    const { recovery } = store;
    log.info({ dataDir: opts.dataDir, revision: store.revision(), recovery }, 'store opened');
    return {
      apiUrl: `https://${opts.api.host.includes(':') ? `[${opts.api.host}]` : opts.api.host}:${apiPort}`,
      trustBundleFile: servingTls.trustBundleFile,
      xdsAddress: `${opts.xds.host}:${xdsPort}`,
      store,
      ca,
      tokens,
      ...(adminToken ? { adminToken } : {}),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
