// The proxy's xDS client: one state-of-the-world ADS stream to the control plane. It
// subscribes to clusters and listeners (wildcard), then to the endpoints and route tables
// they name; decodes and checks each response, has the data plane apply the resulting
// RuntimeConfig, and ACKs or NACKs. It keeps the last good config while the control plane
// is away and reconnects with exponential backoff and full jitter.
//
// Warm-up: CDS arrives before EDS and LDS before RDS. A config is applied after every
// accepted response, so an EDS cluster has no endpoints until its ClusterLoadAssignment
// arrives, and an HTTP listener is applied while its route table is still missing from
// `RuntimeConfig.routes` (the data path answers 503 on it until RDS delivers the table).
// We apply rather than hold the listener so the port is bound early and the gap is visible;
// `ready()` stays false until every named route table and endpoint set has arrived.
import type { Result } from '../../common/result.js';
import * as grpc from '@grpc/grpc-js';
import { createLogger, type Logger } from '../../common/log.js';
import { proxyMetadataToStruct, type ProxyMetadata } from '../../xds/node-metadata.js';
import { ADS_METHOD_PATH } from '../../xds/type-urls.js';
import type { ResourceVersions, RuntimeConfig } from '../config/runtime-config.js';
import { AdsState, KINDS, TYPE_URL_OF, kindOf, type ResourceDump, type ResourceKind } from './ads-state.js';
import { deserializeResponse, serializeRequest, type DiscoveryRequest, type DiscoveryResponse, type XdsNode } from './ads-service.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
import { XDS_PROBLEM, formatProblems, type Problem } from './errors.js';
import { SECRET_TYPE } from '../../xds/type-urls.js';
import { XDS_MAX_MESSAGE_BYTES, XDS_MAX_REQUEST_BYTES } from '../../xds/message-limits.js';
import { READINESS_METADATA_FIELD, type EndpointReadiness } from '../../xds/endpoint-readiness.js';
import { CSR_METADATA_FIELD, JOIN_TOKEN_HEADER, ROOT_SECRET, WORKLOAD_SECRET } from '../../xds/spiffe.js';
import { decodeSecrets, type DecodedSecret, type SecretSink } from './sds.js';
import type { GatewayCertificate, GatewayCertificates } from '../identity/gateway-certificates.js';
import { GATEWAY_SECRET_PREFIX } from '../../xds/names.js';

/** What the data plane answers when asked to apply a config; a failure is NACKed. */
export type ApplyResult = { ok: true } | { ok: false; message: string };

export interface XdsClientOptions {
  /** The control plane's xDS address, `host:port`. */
  server: string;
  node: { id: string; cluster: string; metadata: ProxyMetadata };
  /** Swaps in a new config; called once per accepted response, never concurrently. */
  onConfig(config: RuntimeConfig): Promise<ApplyResult>;
  logger?: Logger;
  backoff?: BackoffOptions;
  /** Insecure when absent. */
  credentials?: grpc.ChannelCredentials | (() => grpc.ChannelCredentials);
  channelOptions?: grpc.ChannelOptions;
  /** Source of jitter (tests inject a seeded one). */
  random?: () => number;
  /** Presented as `authorization: Bearer <token>` on every stream. */
  joinToken?: string;
  /** Where SDS secrets go, and whose CSR travels in node metadata; no SDS when absent. */
  identity?: SecretSink;
  /** A gateway's: where its listeners' certificates (`gateway~` secrets) go; a proxy without it refuses them. */
  gatewayCertificates?: GatewayCertificates;
}

/** A refused response, for operators. */
export interface NackRecord {
  typeUrl: string;
  version: string;
  message: string;
  at: string;
}

export interface XdsClientStatus {
  connected: boolean;
  /** Why the last stream ended. */
  lastError?: string;
  versions: ResourceVersions;
  /** When the data plane last applied a config (ISO 8601). */
  lastUpdate?: string;
  /** The most recent NACKs, oldest first. */
  nacks: NackRecord[];
}

/** ACK and NACK counts and the time of the last of each (Unix ms), for one resource type. */
export interface XdsTypeHealth {
  acks: number;
  nacks: number;
  lastAckMs: number | undefined;
  lastNackMs: number | undefined;
}

const MAX_NACKS = 20;
const MAX_PROBLEMS_IN_NACK = 50;
const INVALID_ARGUMENT = 3;

interface Stream {
  readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  /** Last nonce received per type on this stream (nonces do not survive a stream). */
  readonly nonces: Map<ResourceKind, string>;
  /** Resource names last requested per type on this stream. */
  readonly sent: Map<ResourceKind, string[]>;
  gotResponse: boolean;
  ended: boolean;
  /** Last SDS nonce received on this stream. */
  sdsNonce: string;
}

export class XdsClient {
  private readonly state = new AdsState();
  private readonly log: Logger;
  private node: XdsNode;
  /** What the node metadata says of the endpoint's readiness; absent until reportReadiness. */
  private readiness: EndpointReadiness | undefined;
  /** The SDS version last accepted. */
  private secretsVersion = '';
  private readonly backoff: BackoffOptions;
  private stream: Stream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private started = false;
  private closed = false;
  private connected = false;
  private warm = false;
  private lastError: string | undefined;
  private lastUpdate: string | undefined;
  private readonly nacks: NackRecord[] = [];
  /** By type URL (the four kinds and secrets): for metrics. */
  private readonly health = new Map<string, XdsTypeHealth>();
  /** Responses are handled one at a time, in arrival order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: XdsClientOptions) {
    this.log = options.logger ?? createLogger('proxy.xds-client');
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.node = this.buildNode();
    const identity = options.identity;
    if (identity) {
      identity.onCsr = () => {
        // A new key: the next request carries its CSR; the control plane answers with a new SDS version.
        this.node = this.buildNode();
        const s = this.stream;
        if (s && !s.ended) this.requestSecrets(s);
      };
    }
  }

  private buildNode(): XdsNode {
    const { id, cluster, metadata } = this.options.node;
    const struct = proxyMetadataToStruct(metadata);
    const csr = this.options.identity?.csr;
    if (csr !== undefined) struct.fields = { ...struct.fields, [CSR_METADATA_FIELD]: { stringValue: csr } };
    if (this.readiness !== undefined) struct.fields = { ...struct.fields, [READINESS_METADATA_FIELD]: { stringValue: this.readiness } };
    return { id, cluster, metadata: struct, userAgentName: 'trellis-proxy' };
  }

  /**
   * The endpoint's readiness, carried in the node metadata of every request from now on (and of
   * the first request of every new stream). A change is sent at once, after the responses being
   * handled, as a repeat of the last CDS request: the control plane reads it from any request.
   */
  reportReadiness(readiness: EndpointReadiness): void {
    if (readiness === this.readiness) return;
    this.readiness = readiness;
    this.node = this.buildNode();
    this.queue = this.queue.then(() => {
      const s = this.stream;
      if (s && !s.ended && s.sent.has('clusters')) this.request(s, 'clusters', s.sent.get('clusters')!);
    });
  }

  /** Opens the stream; call once. */
  start(): void {
    if (this.started) throw new Error('XdsClient.start() called twice');
    this.started = true;
    this.connect();
  }

  /** The config the data plane last applied (EMPTY_CONFIG before the first). */
  get config(): RuntimeConfig {
    return this.state.config;
  }

  status(): XdsClientStatus {
    return { connected: this.connected, lastError: this.lastError, versions: this.state.versions(), lastUpdate: this.lastUpdate, nacks: [...this.nacks] };
  }

  /** ACK and NACK counts and times by type URL, and whether the stream is up (for metrics). */
  healthByType(): { connected: boolean; lastUpdateMs: number | undefined; types: ReadonlyMap<string, XdsTypeHealth> } {
    return { connected: this.connected, lastUpdateMs: this.lastUpdate === undefined ? undefined : Date.parse(this.lastUpdate), types: this.health };
  }

  private typeHealth(typeUrl: string): XdsTypeHealth {
    let h = this.health.get(typeUrl);
    if (h === undefined) this.health.set(typeUrl, (h = { acks: 0, nacks: 0, lastAckMs: undefined, lastNackMs: undefined }));
    return h;
  }

  private recordAck(typeUrl: string): void {
    const h = this.typeHealth(typeUrl);
    h.acks++;
    h.lastAckMs = Date.now();
  }

  /** The raw accepted Envoy resources, for the admin /config_dump. */
  dump(): ResourceDump {
    return this.state.dump();
  }

  /** True once clusters, listeners and every route table and endpoint set they name have been applied; stays true. */
  ready(): boolean {
    return this.warm && (this.options.identity?.ready() ?? true);
  }

  /** Ends the stream and stops reconnecting; the last config stays with the data plane. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.connected = false;
    const s = this.stream;
    this.stream = undefined;
    if (s) {
      s.ended = true;
      s.call.cancel();
      s.client.close();
    }
  }

  private connect(): void {
    this.timer = undefined;
    if (this.closed) return;
    // Built per connection: the roots that verify the control plane may have changed since (rotation).
    const given = this.options.credentials;
    const credentials = (typeof given === 'function' ? given() : given) ?? grpc.credentials.createInsecure();
    // A local subchannel pool: grpc-js's own reconnect backoff must not outlive our client.
    const client = new grpc.Client(this.options.server, credentials, {
      'grpc.use_local_subchannel_pool': 1,
      // Set deliberately, matching what the control plane sends at most (see message-limits.ts).
      'grpc.max_receive_message_length': XDS_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': XDS_MAX_REQUEST_BYTES,
      ...this.options.channelOptions,
    });
    const md = new grpc.Metadata();
    if (this.options.joinToken) md.set(JOIN_TOKEN_HEADER, `Bearer ${this.options.joinToken}`);
    const call = client.makeBidiStreamRequest(ADS_METHOD_PATH, serializeRequest, deserializeResponse, md);
    const s: Stream = { client, call, nonces: new Map(), sent: new Map(), gotResponse: false, ended: false, sdsNonce: '' };
    this.stream = s;
    call.on('data', (res: DiscoveryResponse) => {
      this.queue = this.queue.then(() => this.handle(s, res)).catch((e: unknown) => this.log.error({ err: e }, 'bug while handling an xDS response'));
    });
    call.on('metadata', () => {
      if (this.stream === s) this.connected = true;
    });
    call.on('error', (e: grpc.ServiceError) => this.ended(s, `${grpc.status[e.code] ?? e.code}: ${e.details || e.message}`));
    call.on('status', (st: grpc.StatusObject) => this.ended(s, st.code === grpc.status.OK ? 'the control plane closed the stream' : `${grpc.status[st.code]}: ${st.details}`));
    this.log.debug({ server: this.options.server, versions: this.state.versions() }, 'opening xDS stream');
    // Secrets first: listeners and clusters with TLS need them.
    if (this.options.identity) this.requestSecrets(s);
    // Resume where we were: the last ACKed versions and current names, so an unchanged control plane need not resend.
    for (const kind of KINDS) {
      const names = this.state.subscription(kind);
      if (kind === 'clusters' || kind === 'listeners' || names.length > 0) this.request(s, kind, names);
    }
  }

  private ended(s: Stream, reason: string): void {
    if (s.ended) return;
    s.ended = true;
    s.client.close();
    if (this.stream !== s || this.closed) return;
    this.stream = undefined;
    this.connected = false;
    this.lastError = reason;
    if (s.gotResponse) this.attempt = 0;
    const delay = backoffDelay(this.attempt++, this.backoff, this.options.random);
    this.log.warn({ server: this.options.server, reason, delayMs: delay }, 'xDS stream ended; keeping the last config and reconnecting');
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }

  private request(s: Stream, kind: ResourceKind, names: string[], nack?: string): void {
    const req: DiscoveryRequest = {
      versionInfo: this.state.version(kind),
      node: this.node,
      resourceNames: names,
      typeUrl: TYPE_URL_OF[kind],
      responseNonce: s.nonces.get(kind) ?? '',
    };
    if (nack !== undefined) req.errorDetail = { code: INVALID_ARGUMENT, message: nack };
    s.sent.set(kind, names);
    if (!s.ended) s.call.write(req);
  }

  private requestSecrets(s: Stream, nack?: string): void {
    const req: DiscoveryRequest = {
      versionInfo: this.secretsVersion,
      node: this.node,
      // A gateway takes every secret of its stream: its listeners' certificates too, whose names its Gateway decides.
      resourceNames: this.options.gatewayCertificates ? ['*'] : [WORKLOAD_SECRET, ROOT_SECRET],
      typeUrl: SECRET_TYPE,
      responseNonce: s.sdsNonce,
    };
    if (nack !== undefined) req.errorDetail = { code: INVALID_ARGUMENT, message: nack };
    if (!s.ended) s.call.write(req);
  }

  /** The identity's secrets to the identity, a gateway's certificates (checked whole first) to their store. */
  private applySecrets(identity: SecretSink, secrets: Map<string, DecodedSecret>): Result<void, string> {
    const own = new Map<string, DecodedSecret>();
    const gateway = new Map<string, GatewayCertificate>();
    for (const [name, s] of secrets) {
      if (name.startsWith(GATEWAY_SECRET_PREFIX)) gateway.set(name, { cert: s.chain!, key: s.key! });
      else own.set(name, s);
    }
    const store = this.options.gatewayCertificates;
    if (gateway.size > 0 && !store) return { ok: false, error: `secret ${[...gateway.keys()][0]}: carries a private key, which only a gateway (trellis gateway) accepts` };
    const applied = store ? store.apply(gateway) : { ok: true as const, value: undefined };
    return applied.ok ? identity.apply(own) : applied;
  }

  /** An SDS response: checked and installed by the identity, then ACKed, or NACKed with the reason. */
  private handleSecrets(s: Stream, res: DiscoveryResponse): void {
    const identity = this.options.identity;
    const version = res.versionInfo ?? '';
    s.sdsNonce = res.nonce ?? '';
    if (!identity) return;
    const decoded =
      res.decodeError === undefined ? decodeSecrets(res.resources ?? []) : { ok: false as const, error: `the response's resources could not be decoded: ${res.decodeError}` };
    const applied = decoded.ok ? this.applySecrets(identity, decoded.value) : decoded;
    if (!applied.ok) {
      const failure = `${XDS_PROBLEM.INVALID}: ${applied.error}`;
      this.recordNack(res.typeUrl, version, failure);
      this.requestSecrets(s, failure);
      return;
    }
    this.secretsVersion = version;
    this.recordAck(res.typeUrl);
    this.log.debug({ version }, 'ACK secrets');
    this.requestSecrets(s);
  }

  private async handle(s: Stream, res: DiscoveryResponse): Promise<void> {
    // A response from a stream that has ended is dropped: the next stream resumes from the accepted versions.
    if (this.closed || s.ended || this.stream !== s) return;
    s.gotResponse = true;
    this.connected = true;
    if (res.typeUrl === SECRET_TYPE) return this.handleSecrets(s, res);
    const kind = kindOf(res.typeUrl);
    if (!kind) return void this.log.warn({ typeUrl: res.typeUrl }, 'ignoring an xDS response of a type the proxy did not ask for');
    const version = res.versionInfo ?? '';
    s.nonces.set(kind, res.nonce ?? '');
    const names = s.sent.get(kind) ?? this.state.subscription(kind);
    const prepared = res.decodeError === undefined ? this.state.prepare(kind, version, res.resources ?? []) : undefined;
    let failure: string | undefined;
    if (prepared === undefined) failure = `${XDS_PROBLEM.INVALID}: the response's resources could not be decoded: ${res.decodeError}`;
    else if (!prepared.ok) failure = nackMessage(prepared.error);
    else {
      const applied = await this.apply(prepared.value.config);
      if (applied.ok) {
        this.state.commit(prepared.value);
        this.lastUpdate = new Date().toISOString();
        this.warm ||= this.state.isWarm();
        if (prepared.value.retainedNow.length > 0) {
          this.log.warn({ clusters: prepared.value.retainedNow }, 'CDS removed clusters that listeners or routes still use; keeping them until LDS/RDS stop using them');
        }
        if (prepared.value.ignored.length > 0) this.log.debug({ kind, names: prepared.value.ignored }, 'ignored resources not subscribed to');
      } else {
        failure = `${XDS_PROBLEM.APPLY_FAILED}: the data plane could not apply the config: ${applied.message}`;
      }
    }
    if (s.ended) return;
    if (failure !== undefined) {
      this.recordNack(res.typeUrl, version, failure);
      this.request(s, kind, names, failure);
      return;
    }
    this.recordAck(res.typeUrl);
    this.log.debug({ kind, version }, 'ACK');
    this.request(s, kind, names);
    this.updateSubscriptions(s);
  }

  /** Asks for the route tables and endpoint sets the accepted listeners and clusters now name. */
  private updateSubscriptions(s: Stream): void {
    for (const kind of ['endpoints', 'routes'] as const) {
      const names = this.state.subscription(kind);
      const sent = s.sent.get(kind);
      const changed = sent === undefined ? names.length > 0 : names.join('\n') !== sent.join('\n');
      if (changed) this.request(s, kind, names);
    }
  }

  private async apply(config: RuntimeConfig): Promise<{ ok: true } | { ok: false; message: string }> {
    try {
      return await this.options.onConfig(config);
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  }

  private recordNack(typeUrl: string, version: string, message: string): void {
    this.log.warn({ typeUrl, version, message }, 'NACK: refused an xDS response; keeping the last good config');
    const h = this.typeHealth(typeUrl);
    h.nacks++;
    h.lastNackMs = Date.now();
    this.nacks.push({ typeUrl, version, message, at: new Date().toISOString() });
    if (this.nacks.length > MAX_NACKS) this.nacks.shift();
  }
}

function nackMessage(problems: readonly Problem[]): string {
  const shown = formatProblems(problems.slice(0, MAX_PROBLEMS_IN_NACK));
  return problems.length > MAX_PROBLEMS_IN_NACK ? `${shown}\n... and ${problems.length - MAX_PROBLEMS_IN_NACK} more` : shown;
}
