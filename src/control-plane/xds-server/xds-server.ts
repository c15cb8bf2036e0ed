// The xDS server: gRPC ADS for Trellis proxies, Envoy and proxyless gRPC. Each stream's
// first request registers its workload; every config or registry change recomputes the
// snapshots (debounced) and pushes the types whose version changed.
import { shutdownGrpcServer } from '../../common/grpc-shutdown.js';
import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { createLogger, type Logger } from '../../common/log.js';
import { parseProxyMetadata, structToJson, type NodeKind } from '../../xds/node-metadata.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, SERVED_TYPES_IN_ORDER, type ServedTypeUrl } from '../../xds/type-urls.js';
import { readinessOf } from '../../xds/endpoint-readiness.js';
import { CSR_METADATA_FIELD, JOIN_TOKEN_HEADER, ROOT_SECRET, WORKLOAD_SECRET } from '../../xds/spiffe.js';
import type { Secret } from '../../xds/tls-types.js';
import { typeVersion } from '../translator/versions.js';
import { versionOf } from './ads-session.js';
import type { StreamPrincipal, StreamSecurity } from './stream-security.js';
import { checkLabelClaims } from './label-claims.js';
import { ok } from '../../common/result.js';
import type { Lease, WorkloadRegistry } from '../registry/workload-registry.js';
import { translate } from '../translator/translate.js';
import type { MeshState, ProxyNode, Snapshot, TranslatorInput } from '../translator/types.js';
import { adsServiceDefinition, encodeResponse, type DiscoveryRequest, type OutgoingResponse } from './ads-service.js';
import { formatBytes, XDS_MAX_MESSAGE_BYTES, XDS_MAX_REQUEST_BYTES } from '../../xds/message-limits.js';
import { AdsSession } from './ads-session.js';
import { streamError, XdsErrorCode, type StreamError } from './errors.js';
import { PendingPushes } from './pending-pushes.js';
import { NO_XDS_METRICS, type XdsMetrics } from './xds-metrics.js';
import { emptyVersions, NACK_HISTORY, type NackRecord, type ProxyCertificate, type ProxyStatus, type UndeliveredConfig } from './proxy-status.js';

export interface XdsServerDeps {
  registry: WorkloadRegistry;
  /** The stored resources, read on every recompute. */
  getState(): MeshState;
  /** How long changes are gathered before snapshots are recomputed (default 20 ms). */
  debounceMs?: number;
  /** Server keepalive ping interval, so a vanished proxy's stream ends (default 30 s). */
  keepaliveMs?: number;
  logger?: Logger;
  /** Join-token authentication and SDS; without it streams are not authenticated and get no secrets. */
  security?: StreamSecurity;
  /** The mesh's trust domain, given to the translator with `security`. */
  trustDomain?: string;
  /** TLS for the gRPC server (insecure when absent). */
  credentials?: grpc.ServerCredentials;
  /**
   * The largest response sent (default XDS_MAX_MESSAGE_BYTES, what proxies accept). A response
   * over it is not sent; the proxy's status says which type, its size and the limit.
   */
  maxMessageBytes?: number;
  /** Counts responses, push latency and size, NACKs and snapshot computations (nothing when absent). */
  metrics?: XdsMetrics;
}

// Responses are written encoded: the server measures each before sending.
type AdsCall = grpc.ServerDuplexStream<DiscoveryRequest, Buffer>;

interface Stream {
  call: AdsCall;
  node: ProxyNode;
  lease: Lease;
  session: AdsSession;
  snapshot: Snapshot;
  /** Changes computed for the proxy and not yet written to it, with when they arrived. */
  pushes: PendingPushes;
  principal?: StreamPrincipal;
  /** The CSR last signed on this stream. */
  csr?: string;
  secrets: Map<string, Secret>;
  /** The validity of the workload certificate last issued on this stream. */
  certificate?: ProxyCertificate;
}

interface ProxyRecord {
  /** From the node metadata of its last stream. */
  kind: NodeKind;
  /** The xDS client's own name and version (the xDS Node's `user_agent_name`/`user_agent_version`), as it last sent them. */
  userAgent?: { name: string; version: string };
  acked: ProxyStatus['versions'];
  nacks: NackRecord[];
  /** Per type, the last response too large to send; cleared when one of that type is sent, or the config moves back to what the proxy has. */
  undelivered: Map<ServedTypeUrl, UndeliveredConfig>;
}

const VERSION_KEYS: Record<ServedTypeUrl, keyof ProxyStatus['versions']> = {
  [LISTENER_TYPE]: 'listeners',
  [ROUTE_TYPE]: 'routes',
  [CLUSTER_TYPE]: 'clusters',
  [ENDPOINT_TYPE]: 'endpoints',
  [SECRET_TYPE]: 'secrets',
};

const currentVersions = (s: Snapshot): ProxyStatus['versions'] => ({
  listeners: s.versions[LISTENER_TYPE],
  routes: s.versions[ROUTE_TYPE],
  clusters: s.versions[CLUSTER_TYPE],
  endpoints: s.versions[ENDPOINT_TYPE],
});

/** A proxyless node asks by name for what its app uses: a type it does not ask for has no current version ('' as its acked one). */
function askedVersions(stream: Stream): ProxyStatus['versions'] {
  const all = currentVersions(stream.snapshot);
  if (stream.node.kind !== 'grpc') return all;
  const asked = (t: ServedTypeUrl, v: string) => (stream.session.asksFor(t) ? v : '');
  return {
    listeners: asked(LISTENER_TYPE, all.listeners),
    routes: asked(ROUTE_TYPE, all.routes),
    clusters: asked(CLUSTER_TYPE, all.clusters),
    endpoints: asked(ENDPOINT_TYPE, all.endpoints),
  };
}

const sameVersions = (a: Snapshot, b: Snapshot): boolean => (Object.keys(VERSION_KEYS) as ServedTypeUrl[]).every((t) => versionOf(a, t) === versionOf(b, t));
const sameWarnings = (a: Snapshot, b: Snapshot): boolean => a.warnings.length === b.warnings.length && a.warnings.every((w, i) => w === b.warnings[i]);

/** Where a connected proxy's admin listener is reached, and the versions computed for it. */
function adminOf(stream: Stream | undefined): Pick<ProxyStatus, 'adminPort' | 'adminSocket' | 'current' | 'certificate'> {
  if (stream === undefined) return {};
  const { adminPort, adminSocket } = stream.node;
  return {
    adminPort,
    ...(adminSocket !== undefined ? { adminSocket } : {}),
    current: askedVersions(stream),
    ...(stream.certificate ? { certificate: { ...stream.certificate } } : {}),
  };
}

/** The token of `authorization: Bearer <token>` in a call's metadata. */
function bearer(metadata: grpc.Metadata): string | undefined {
  const v = metadata.get(JOIN_TOKEN_HEADER)[0];
  const m = typeof v === 'string' ? /^Bearer\s+(\S+)$/i.exec(v) : null;
  return m?.[1];
}

/**
 * Serves ADS. Invariant: at most one stream per node id (a newer one of the same identity ends
 * the older; one of another identity is refused while the id's workload is registered).
 * Lifecycle: construct, `listen`, call `onConfigChanged` after every store change, `close`.
 */
export class XdsServer {
  readonly #deps: XdsServerDeps;
  readonly #log: Logger;
  readonly #metrics: XdsMetrics;
  readonly #streams = new Map<string, Stream>();
  readonly #records = new Map<string, ProxyRecord>();
  readonly #unsubscribe: () => void;
  readonly #unsubscribeSecurity: (() => void)[] = [];
  #server: grpc.Server | undefined;
  #input: TranslatorInput | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: XdsServerDeps) {
    this.#deps = deps;
    this.#log = deps.logger ?? createLogger('control-plane.xds');
    this.#metrics = deps.metrics ?? NO_XDS_METRICS;
    this.#unsubscribe = deps.registry.onChange((e) => {
      if (e.type === 'removed') this.#records.delete(e.workload.id);
      this.#changed();
    });
    const sec = deps.security;
    if (sec) {
      this.#unsubscribeSecurity.push(
        sec.onRevoke((tokenId) => this.#revoked(tokenId)),
        sec.onBundleChange(() => this.#bundleChanged()),
      );
    }
  }

  /** Starts serving on host:port (0 = any free port); resolves to the bound port. */
  listen(host: string, port: number): Promise<number> {
    const keepalive = this.#deps.keepaliveMs ?? 30_000;
    const server = new grpc.Server({
      'grpc.keepalive_time_ms': keepalive,
      'grpc.keepalive_timeout_ms': Math.min(keepalive, 10_000),
      // Set deliberately (see message-limits.ts); #send measures each response against the same bound.
      'grpc.max_send_message_length': this.#maxMessageBytes(),
      'grpc.max_receive_message_length': XDS_MAX_REQUEST_BYTES,
    });
    server.addService(adsServiceDefinition, { StreamAggregatedResources: (call: AdsCall) => this.#handle(call) });
    this.#server = server;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      server.bindAsync(address, this.#deps.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
  }

  /**
   * Also serves on a Unix socket at `socketPath` (after listen()): proxies in other network
   * namespaces reach the control plane through the file system. A stale socket file is replaced.
   */
  async listenUnix(socketPath: string): Promise<void> {
    if (!this.#server) throw new Error('XdsServer.listenUnix called before listen()');
    rmSync(socketPath, { force: true });
    const server = this.#server;
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
  }

  /** The stored resources changed: recompute every proxy's snapshot soon and push what changed. */
  onConfigChanged(): void {
    this.#changed();
  }

  /** Every registered proxy (connected, or within its grace period), ordered by id. */
  proxies(): ProxyStatus[] {
    return this.#deps.registry.list().map((w) => {
      const record = this.#records.get(w.id);
      return {
        id: w.id,
        ...(record !== undefined && record.kind !== 'sidecar' ? { kind: record.kind } : {}),
        ...(record?.userAgent !== undefined ? { userAgent: { ...record.userAgent } } : {}),
        service: w.service,
        namespace: w.namespace,
        address: w.address,
        connected: w.connected,
        lastSeen: w.lastSeen,
        ...(w.readiness !== undefined ? { readiness: w.readiness } : {}),
        versions: { ...(record?.acked ?? emptyVersions()) },
        nacks: [...(record?.nacks ?? [])],
        undelivered: this.#undelivered(w.id),
        warnings: [...(this.#streams.get(w.id)?.snapshot.warnings ?? [])],
        ...adminOf(this.#streams.get(w.id)),
        labels: { ...w.labels },
      };
    });
  }

  /** The snapshot last computed for a connected proxy (for debugging and config dumps). */
  snapshotOf(id: string): Snapshot | undefined {
    return this.#streams.get(id)?.snapshot;
  }

  /** Ends every stream (UNAVAILABLE, so proxies reconnect elsewhere or later) and stops serving. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#unsubscribe();
    this.#unsubscribeSecurity.forEach((u) => u());
    for (const s of [...this.#streams.values()]) this.#fail(s.call, streamError(XdsErrorCode.SHUTTING_DOWN, 'the control plane is shutting down'));
    const server = this.#server;
    if (server) await shutdownGrpcServer(server);
  }

  #handle(call: AdsCall): void {
    let stream: Stream | undefined;
    let ended = false;
    let principal: StreamPrincipal | undefined;
    const sec = this.#deps.security;
    if (sec) {
      // Checked before anything is read or sent: a proxy without a valid token gets nothing but this.
      const auth = sec.authenticate(bearer(call.metadata));
      if (!auth.ok) {
        this.#log.warn({ peer: call.getPeer(), reason: auth.error }, 'refused an xDS stream without a valid join token');
        this.#fail(call, streamError(XdsErrorCode.UNAUTHENTICATED, auth.error));
        return;
      }
      principal = auth.value;
    }
    let queue: Promise<void> = Promise.resolve();
    const end = () => {
      if (ended) return;
      ended = true;
      if (stream && this.#streams.get(stream.node.id) === stream) this.#streams.delete(stream.node.id);
      if (stream) this.#deps.registry.disconnect(stream.node.id, stream.lease);
    };
    const onRequest = async (req: DiscoveryRequest): Promise<void> => {
      if (ended || this.#closed) return;
      try {
        if (!stream) {
          stream = this.#open(call, req, principal);
          if (!stream) {
            ended = true;
            return;
          }
        } else {
          this.#deps.registry.touch(stream.node.id, stream.lease);
          // Authenticated like the rest of the stream: only this proxy's own requests carry its readiness.
          this.#deps.registry.setReadiness(stream.node.id, stream.lease, readinessOf(req.node?.metadata));
        }
        if (sec && !(await this.#signCsr(stream, req, sec))) {
          end();
          return;
        }
        if (ended) return;
        // A proxyless node's agent asks for secrets itself; the rest comes from the application's gRPC client.
        if (stream.node.kind !== 'grpc' || req.typeUrl !== SECRET_TYPE) this.#noteUserAgent(stream.node.id, req);
        const renamed = stream.node.kind === 'grpc' && req.typeUrl === LISTENER_TYPE && this.#followListenerNames(stream, req.resourceNames ?? []);
        stream.session.handleRequest(req, stream.snapshot);
        // Other types may name what the new listeners brought (their routes, clusters).
        if (renamed) stream.session.setSnapshot(stream.snapshot);
      } catch (e) {
        this.#log.error({ err: e, proxy: stream?.node.id }, 'handling an xDS request failed');
        this.#fail(call, streamError(XdsErrorCode.INTERNAL, `handling the request failed: ${(e as Error).message}`));
        end();
      }
    };
    // Without security requests are handled at once; with it one at a time, since signing a CSR waits.
    call.on('data', (req: DiscoveryRequest) => {
      if (!sec) void onRequest(req);
      else queue = queue.then(() => onRequest(req));
    });
    call.on('end', () => {
      end();
      call.end();
    });
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
  }

  /** The first request of a stream: checks the node, takes over the id, registers the workload. */
  #open(call: AdsCall, req: DiscoveryRequest, principal: StreamPrincipal | undefined): Stream | undefined {
    const id = req.node?.id ?? '';
    if (id === '') {
      this.#fail(call, streamError(XdsErrorCode.NODE_ID_MISSING, 'node.id: required in the first request of a stream, got nothing'));
      return undefined;
    }
    const meta = parseProxyMetadata(structToJson(req.node?.metadata));
    if (!meta.ok) {
      this.#log.warn({ proxy: id, problems: meta.error }, 'refused a proxy with invalid node metadata');
      this.#fail(call, streamError(XdsErrorCode.NODE_METADATA_INVALID, `node ${id}: node.${meta.error.join('; node.')}`));
      return undefined;
    }
    const node: ProxyNode = { id, ...meta.value };
    if (principal && (principal.service !== node.service || principal.namespace !== node.namespace)) {
      const why = `join token ${principal.tokenId} is for service ${principal.service} in namespace ${principal.namespace}; it cannot obtain the identity of service ${node.service} in namespace ${node.namespace}`;
      this.#log.warn({ proxy: id, token: principal.tokenId }, why);
      this.#fail(call, streamError(XdsErrorCode.IDENTITY_MISMATCH, `node ${id}: ${why}`));
      return undefined;
    }
    const claims = principal ? checkLabelClaims(principal, node.labels) : ok(undefined);
    if (!claims.ok) {
      this.#log.warn({ proxy: id, token: principal?.tokenId, reason: claims.error }, 'refused a proxy claiming a label its join token does not allow');
      this.#fail(call, streamError(XdsErrorCode.LABEL_NOT_ALLOWED, `node ${id}: ${claims.error}`));
      return undefined;
    }
    // Checked before connecting, so the stream that holds the id is left untouched.
    const owner = this.#deps.registry.heldByOther(id, node.namespace, node.service);
    if (owner) {
      const why = `node id ${id} belongs to the workload of service ${owner.service} in namespace ${owner.namespace} until it leaves the registry; this stream is service ${node.service} in namespace ${node.namespace}: use another node id`;
      this.#log.warn({ proxy: id, token: principal?.tokenId, owner: `${owner.namespace}/${owner.service}` }, 'refused a stream for a node id of another identity');
      this.#fail(call, streamError(XdsErrorCode.NODE_ID_OWNED, why));
      return undefined;
    }
    // Connect before ending an older stream of the same id, so its disconnect finds its lease outdated (no churn).
    const lease = this.#deps.registry.connect(id, meta.value, readinessOf(req.node?.metadata));
    const old = this.#streams.get(id);
    if (old) {
      this.#log.warn({ proxy: id }, 'a new stream with the same node id replaces the old one');
      this.#streams.delete(id);
      this.#fail(old.call, streamError(XdsErrorCode.STREAM_REPLACED, `a newer stream for node id ${id} replaced this one`));
    }
    const kind = meta.value.kind ?? 'sidecar';
    this.#record(id).kind = kind;
    // A proxyless node's new stream carries a new app stream's subscriptions (the agent restarts it): nothing is acked on it yet.
    if (node.kind === 'grpc') this.#record(id).acked = emptyVersions();
    const pushes = new PendingPushes();
    const session = new AdsSession((r) => this.#send(id, call, r, kind, pushes), {
      onAck: (typeUrl, version) => {
        this.#record(id).acked[VERSION_KEYS[typeUrl]] = version;
      },
      onNack: (typeUrl, version, nonce, message) => {
        this.#metrics.nacked(typeUrl);
        const nacks = this.#record(id).nacks;
        nacks.push({ typeUrl, version, nonce, message, at: new Date().toISOString() });
        if (nacks.length > NACK_HISTORY) nacks.splice(0, nacks.length - NACK_HISTORY);
        this.#log.warn({ proxy: id, typeUrl, version, nonce, reason: message }, `proxy ${id} rejected ${typeUrl} version ${version}: ${message}`);
      },
      onUnknownType: (typeUrl) => this.#log.debug({ proxy: id, typeUrl }, 'ignored a request for a type Trellis does not serve'),
    });
    const secrets = new Map<string, Secret>();
    if (this.#deps.security) secrets.set(ROOT_SECRET, rootSecret(this.#deps.security.trustBundle()));
    const stream: Stream = { call, node, lease, session, pushes, secrets, snapshot: withSecrets(this.#translate(node, undefined), secrets), ...(principal ? { principal } : {}) };
    this.#streams.set(id, stream);
    return stream;
  }

  /**
   * A proxyless gRPC node's listeners are the names its client subscribed to: a new set of names
   * gives a new snapshot, computed before the response to the request that carried them (else the
   * client would get none of them and record that they do not exist). True when they changed.
   */
  #followListenerNames(stream: Stream, requested: readonly string[]): boolean {
    const names = [...new Set(requested)].sort();
    const had = stream.node.listenerNames ?? [];
    if (names.length === had.length && names.every((n, i) => n === had[i])) return false;
    stream.node = { ...stream.node, listenerNames: names };
    stream.snapshot = withSecrets(this.#translate(stream.node, stream.snapshot), stream.secrets);
    return true;
  }

  #noteUserAgent(id: string, req: DiscoveryRequest): void {
    const name = req.node?.userAgentName;
    if (!name) return;
    const record = this.#record(id);
    const version = req.node?.userAgentVersion ?? '';
    if (record.userAgent?.name !== name || record.userAgent.version !== version) record.userAgent = { name, version };
  }

  #record(id: string): ProxyRecord {
    let r = this.#records.get(id);
    if (!r) this.#records.set(id, (r = newRecord()));
    return r;
  }

  /**
   * What could not be sent to a proxy and still matters: a record stays while the proxy's current
   * config of that type is the version that was too large (the config moving on to a version the
   * proxy already has sends nothing, so it is dropped here).
   */
  #undelivered(id: string): UndeliveredConfig[] {
    const record = this.#records.get(id);
    const snapshot = this.#streams.get(id)?.snapshot;
    if (!record) return [];
    for (const [typeUrl, u] of record.undelivered) {
      if (snapshot && versionOf(snapshot, typeUrl) !== u.version) record.undelivered.delete(typeUrl);
    }
    return [...record.undelivered.values()];
  }

  #maxMessageBytes(): number {
    return this.#deps.maxMessageBytes ?? XDS_MAX_MESSAGE_BYTES;
  }

  /** Encodes and writes one response; false (and recorded on the proxy's status) when it is too large to send. */
  #send(id: string, call: AdsCall, r: OutgoingResponse, kind: NodeKind, pushes: PendingPushes): boolean {
    const bytes = encodeResponse(r);
    const limit = this.#maxMessageBytes();
    const typeUrl = r.typeUrl as ServedTypeUrl;
    const undelivered = this.#record(id).undelivered;
    if (bytes.length > limit) {
      const message = `${VERSION_KEYS[typeUrl]} version ${r.versionInfo} is ${formatBytes(bytes.length)} encoded, over the xDS message limit of ${formatBytes(limit)}; not sent, the proxy keeps its last ${VERSION_KEYS[typeUrl]}`;
      undelivered.set(typeUrl, { typeUrl, version: r.versionInfo, bytes: bytes.length, limitBytes: limit, message, at: new Date().toISOString() });
      this.#log.error({ proxy: id, typeUrl, version: r.versionInfo, bytes: bytes.length, limit }, `proxy ${id}: ${message}`);
      pushes.dropped(typeUrl);
      return false;
    }
    undelivered.delete(typeUrl);
    call.write(bytes);
    this.#metrics.responseSent(typeUrl, bytes.length);
    const waited = pushes.written(typeUrl, r.versionInfo, performance.now());
    if (waited !== undefined) this.#metrics.pushed(typeUrl, kind, waited);
    return true;
  }

  #fail(call: AdsCall, error: StreamError): void {
    // grpc-js turns an 'error' event on a server stream into the status the call ends with.
    call.emit('error', { code: error.code, details: error.details, metadata: new grpc.Metadata() });
  }

  #currentInput(): TranslatorInput {
    const security = this.#deps.security ? { security: { trustDomain: this.#deps.trustDomain ?? 'trellis.local' } } : {};
    if (!this.#input) this.#input = { ...this.#deps.getState(), workloads: this.#deps.registry.list(), ...security };
    return this.#input;
  }

  #translate(node: ProxyNode, previous: Snapshot | undefined): Snapshot {
    const started = performance.now();
    const snapshot = translate(this.#currentInput(), node);
    this.#metrics.snapshotComputed(node.kind ?? 'sidecar', (performance.now() - started) / 1000);
    if (snapshot.warnings.length > 0 && JSON.stringify(snapshot.warnings) !== JSON.stringify(previous?.warnings)) {
      this.#log.warn({ proxy: node.id, warnings: snapshot.warnings }, `config of proxy ${node.id} has problems`);
    }
    return snapshot;
  }

  #changed(): void {
    this.#input = undefined;
    if (this.#closed || this.#timer) return;
    // A fixed window (not reset by later changes), so a stream of changes cannot delay pushes.
    const arrived = performance.now();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#recompute(arrived);
    }, this.#deps.debounceMs ?? 20);
  }

  /** Recomputes every stream's snapshot after changes, the first of which arrived at `arrived` (performance.now()). */
  #recompute(arrived: number): void {
    if (this.#closed) return;
    for (const stream of this.#streams.values()) {
      try {
        const next = withSecrets(this.#translate(stream.node, stream.snapshot), stream.secrets);
        if (sameVersions(next, stream.snapshot)) {
          // Nothing to push, but the status must say what the translator says now (an ignored policy changes no version).
          if (!sameWarnings(next, stream.snapshot)) stream.snapshot = { ...stream.snapshot, warnings: next.warnings };
          continue;
        }
        this.#push(stream, next, arrived);
      } catch (e) {
        this.#log.error({ err: e, proxy: stream.node.id }, 'computing the snapshot of a proxy failed; it keeps its last one');
      }
    }
  }

  /** Signs a new CSR from the request's node metadata; false when the stream was ended for a bad one. */
  async #signCsr(stream: Stream, req: DiscoveryRequest, sec: StreamSecurity): Promise<boolean> {
    const csr = structToJson(req.node?.metadata)[CSR_METADATA_FIELD];
    if (typeof csr !== 'string' || csr === stream.csr || !stream.principal) return true;
    stream.csr = csr;
    const arrived = performance.now();
    const issued = await sec.issue(stream.principal, csr);
    if (!issued.ok) {
      this.#log.warn({ proxy: stream.node.id, reason: issued.error }, 'refused a CSR');
      this.#fail(stream.call, streamError(XdsErrorCode.CSR_INVALID, `node ${stream.node.id}: node.metadata.${CSR_METADATA_FIELD}: ${issued.error}`));
      return false;
    }
    stream.secrets.set(WORKLOAD_SECRET, { name: WORKLOAD_SECRET, tlsCertificate: { certificateChain: { inlineString: issued.value.chainPem } } });
    stream.certificate = { notBefore: issued.value.notBefore.toISOString(), notAfter: issued.value.notAfter.toISOString() };
    this.#log.info({ proxy: stream.node.id, token: stream.principal.tokenId }, 'issued a workload certificate');
    this.#resend(stream, arrived);
    return true;
  }

  /** The stream's secrets changed (a change that arrived at `arrived`): a new snapshot with them, pushed if the proxy subscribed. */
  #resend(stream: Stream, arrived: number): void {
    this.#push(stream, withSecrets(stream.snapshot, stream.secrets), arrived);
  }

  /** Sets a stream's new snapshot and sends what changed; the change behind it arrived at `arrived`. */
  #push(stream: Stream, next: Snapshot, arrived: number): void {
    for (const t of SERVED_TYPES_IN_ORDER) if (stream.session.asksFor(t) && versionOf(next, t) !== versionOf(stream.snapshot, t)) stream.pushes.changed(t, arrived);
    stream.snapshot = next;
    stream.session.setSnapshot(next);
    stream.pushes.settle((t) => versionOf(next, t));
  }

  #bundleChanged(): void {
    const bundle = this.#deps.security?.trustBundle();
    if (bundle === undefined || this.#closed) return;
    const arrived = performance.now();
    for (const stream of this.#streams.values()) {
      stream.secrets.set(ROOT_SECRET, rootSecret(bundle));
      this.#resend(stream, arrived);
    }
  }

  #revoked(tokenId: string): void {
    for (const stream of [...this.#streams.values()]) {
      if (stream.principal?.tokenId !== tokenId) continue;
      this.#log.warn({ proxy: stream.node.id, token: tokenId }, 'ending the stream of a revoked join token');
      this.#fail(stream.call, streamError(XdsErrorCode.UNAUTHENTICATED, `join token ${tokenId} was revoked`));
    }
  }
}

const newRecord = (): ProxyRecord => ({ kind: 'sidecar', acked: emptyVersions(), nacks: [], undelivered: new Map() });

function rootSecret(bundle: string): Secret {
  return { name: ROOT_SECRET, validationContext: { trustedCa: { inlineString: bundle } } };
}

/** `snapshot` with `secrets` (and a gateway's certificates the translator gave it) and their version (no secrets: unchanged). */
function withSecrets(snapshot: Snapshot, secrets: ReadonlyMap<string, Secret>): Snapshot {
  const all = snapshot.gatewaySecrets ? [...secrets, ...snapshot.gatewaySecrets] : [...secrets];
  if (all.length === 0) return snapshot;
  const sorted = new Map(all.sort(([a], [b]) => (a < b ? -1 : 1)));
  return { ...snapshot, secrets: sorted, secretsVersion: typeVersion(sorted) };
}
