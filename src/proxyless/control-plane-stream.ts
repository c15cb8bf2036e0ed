// The agent's one ADS stream to the control plane, authenticated as the proxy's is (the join
// token as `authorization: Bearer`, TLS verified with the mesh roots). On it the agent asks
// for its own SDS secrets (its CSR in node metadata, as the proxy sends it) and forwards the
// app's requests with the agent's node in place of the app's; SDS responses it keeps and ACKs,
// every other response goes to the app as the bytes that came. A lost stream is opened again
// with backoff; the relay ends the app's stream then, so the app subscribes afresh.
import * as grpc from '@grpc/grpc-js';
import { createLogger, type Logger } from '../common/log.js';
import { proxyMetadataToStruct, type ProxyMetadata } from '../xds/node-metadata.js';
import { encodeProxyMessage } from '../xds/proxy-protos.js';
import { ADS_METHOD_PATH, SECRET_TYPE } from '../xds/type-urls.js';
import { XDS_MAX_MESSAGE_BYTES, XDS_MAX_REQUEST_BYTES } from '../xds/message-limits.js';
import { READINESS_METADATA_FIELD, type EndpointReadiness } from '../xds/endpoint-readiness.js';
import { CSR_METADATA_FIELD, JOIN_TOKEN_HEADER, ROOT_SECRET, WORKLOAD_SECRET } from '../xds/spiffe.js';
import { deserializeResponse, serializeRequest, type DiscoveryRequest } from '../proxy/xds/ads-service.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from '../proxy/xds/backoff.js';
import { XDS_PROBLEM } from '../proxy/xds/errors.js';
import { decodeSecrets, type SecretSink } from '../proxy/xds/sds.js';
import { typeUrlOf, withNode } from './discovery-bytes.js';
import type { Locality } from './bootstrap-file.js';

/** The agent's user agent on its own requests (forwarded ones keep the app's). */
export const AGENT_USER_AGENT = 'trellis-grpc-agent';
const NODE = 'envoy.config.core.v3.Node';
const INVALID_ARGUMENT = 3;
/** How long a replaced stream is kept open while its successor starts (the control plane registers the new one first: no gap). */
const RETIRE_AFTER_MS = 2000;

export interface ControlPlaneStreamOptions {
  /** The control plane's xDS address: `host:port` or `unix:PATH`. */
  server: string;
  /** TLS to the control plane; insecure when absent (a Unix socket). Built per connection. */
  credentials?: () => grpc.ChannelCredentials;
  joinToken?: string;
  node: { id: string; metadata: ProxyMetadata; locality?: Locality };
  /** Takes the SDS secrets; its CSR travels in node metadata. */
  identity: SecretSink;
  /** Called once the identity took new secrets, before they are ACKed; a rejection NACKs them with its message. */
  onSecrets(): Promise<void>;
  /** Every end of the current stream, for the agent's status (the relay has its own hook). */
  onEnded?: (end: StreamEnd) => void;
  logger?: Logger;
  backoff?: BackoffOptions;
  random?: () => number;
}

/** Why a stream ended, as the control plane said it. */
export interface StreamEnd {
  code: grpc.status;
  reason: string;
}

interface Stream {
  readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  ended: boolean;
  gotResponse: boolean;
  sdsNonce: string;
  retireTimer?: NodeJS.Timeout;
}

export class ControlPlaneStream {
  /** Responses for the app (every type but SDS), as received. */
  onAppResponse: (bytes: Buffer) => void = () => {};
  /** The current stream ended (the app's stream must end too). */
  onStreamEnd: (end: StreamEnd) => void = () => {};

  readonly #o: ControlPlaneStreamOptions;
  readonly #log: Logger;
  #stream: Stream | undefined;
  #retiring: Stream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #closed = false;
  #readiness: EndpointReadiness | undefined;
  #secretsVersion = '';
  /** The agent's node without user agent (what forwarded requests carry), and with its own. */
  #forwardNode: Uint8Array = new Uint8Array();
  #ownNode: Uint8Array = new Uint8Array();
  #lastEnd: StreamEnd | undefined;
  /** SDS responses are handled one at a time (writing the files waits). */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: ControlPlaneStreamOptions) {
    this.#o = options;
    this.#log = options.logger ?? createLogger('proxyless.control-plane-stream');
    this.#buildNode();
    options.identity.onCsr = () => {
      // A new key: the next request carries its CSR; the control plane answers with a new certificate.
      this.#buildNode();
      const s = this.#stream;
      if (s && !s.ended) this.#requestSecrets(s);
    };
  }

  /** True while a stream is open and has had an answer. */
  get connected(): boolean {
    return this.#stream?.gotResponse === true && !this.#stream.ended;
  }

  /** How the last stream ended, if one did. */
  get lastEnd(): StreamEnd | undefined {
    return this.#lastEnd;
  }

  start(): void {
    this.#connect();
  }

  /**
   * Sends one of the app's requests (bytes) with the agent's node. With no stream open (waiting
   * to reconnect), one is opened now: the app's own backoff paces these attempts.
   */
  forward(request: Buffer): void {
    if (this.#closed) return;
    if (!this.#stream) this.#connect();
    const s = this.#stream!;
    if (!s.ended) s.call.write(withNode(request, this.#forwardNode));
  }

  /**
   * Opens a new stream now, so the control plane's state of the app's subscriptions starts
   * fresh; the old one closes once the new one is answered.
   */
  restart(): void {
    if (this.#closed) return;
    const old = this.#stream;
    this.#stream = undefined;
    this.#retire(this.#retiring);
    if (old && !old.ended) {
      this.#retiring = old;
      old.retireTimer = setTimeout(() => this.#retire(old), RETIRE_AFTER_MS);
      old.retireTimer.unref();
    }
    clearTimeout(this.#timer);
    this.#connect();
  }

  /** The endpoint's readiness, in node metadata from now on; sent at once (as a repeat of the SDS request). */
  reportReadiness(readiness: EndpointReadiness): void {
    if (readiness === this.#readiness) return;
    this.#readiness = readiness;
    this.#buildNode();
    this.#queue = this.#queue.then(() => {
      const s = this.#stream;
      if (s && !s.ended) this.#requestSecrets(s);
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#retire(this.#retiring);
    const s = this.#stream;
    this.#stream = undefined;
    if (s) this.#end(s);
  }

  #buildNode(): void {
    const struct = proxyMetadataToStruct(this.#o.node.metadata);
    struct.fields = {
      ...struct.fields,
      [CSR_METADATA_FIELD]: { stringValue: this.#o.identity.csr },
      ...(this.#readiness !== undefined ? { [READINESS_METADATA_FIELD]: { stringValue: this.#readiness } } : {}),
    };
    const { id, metadata, locality } = this.#o.node;
    this.#forwardNode = encodeProxyMessage(NODE, { id, cluster: metadata.service, metadata: struct, ...(locality ? { locality } : {}) });
    this.#ownNode = Buffer.concat([this.#forwardNode, encodeProxyMessage(NODE, { userAgentName: AGENT_USER_AGENT })]);
  }

  #connect(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    const credentials = this.#o.credentials?.() ?? grpc.credentials.createInsecure();
    const client = new grpc.Client(this.#o.server, credentials, {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': XDS_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': XDS_MAX_REQUEST_BYTES,
    });
    const md = new grpc.Metadata();
    if (this.#o.joinToken) md.set(JOIN_TOKEN_HEADER, `Bearer ${this.#o.joinToken}`);
    const raw = (b: Buffer) => b;
    const call = client.makeBidiStreamRequest(ADS_METHOD_PATH, raw, raw, md);
    const s: Stream = { client, call, ended: false, gotResponse: false, sdsNonce: '' };
    this.#stream = s;
    call.on('data', (bytes: Buffer) => this.#received(s, bytes));
    call.on('error', (e: grpc.ServiceError) => this.#ended(s, { code: e.code, reason: `${grpc.status[e.code] ?? e.code}: ${e.details || e.message}` }));
    call.on('status', (st: grpc.StatusObject) =>
      this.#ended(s, { code: st.code, reason: st.code === grpc.status.OK ? 'the control plane closed the stream' : `${grpc.status[st.code]}: ${st.details}` }),
    );
    this.#log.debug({ server: this.#o.server }, 'opening the xDS stream');
    this.#requestSecrets(s);
  }

  #received(s: Stream, bytes: Buffer): void {
    if (s.ended || this.#stream !== s) return;
    if (!s.gotResponse) {
      s.gotResponse = true;
      this.#attempt = 0;
      this.#retire(this.#retiring);
    }
    let typeUrl: string;
    try {
      typeUrl = typeUrlOf(bytes);
    } catch (e) {
      this.#log.warn({ err: e }, 'dropped a response that is not a DiscoveryResponse');
      return;
    }
    if (typeUrl !== SECRET_TYPE) return this.onAppResponse(bytes);
    this.#queue = this.#queue.then(() => this.#handleSecrets(s, bytes)).catch((e: unknown) => this.#log.error({ err: e }, 'bug while handling secrets'));
  }

  /** An SDS response: checked and installed by the identity, written to disk, then ACKed; or NACKed with the reason. */
  async #handleSecrets(s: Stream, bytes: Buffer): Promise<void> {
    if (s.ended) return;
    const res = deserializeResponse(bytes);
    const version = res.versionInfo ?? '';
    s.sdsNonce = res.nonce ?? '';
    const decoded =
      res.decodeError === undefined ? decodeSecrets(res.resources ?? []) : { ok: false as const, error: `the response's resources could not be decoded: ${res.decodeError}` };
    let failure: string | undefined;
    const applied = decoded.ok ? this.#o.identity.apply(decoded.value) : decoded;
    if (!applied.ok) failure = `${XDS_PROBLEM.INVALID}: ${applied.error}`;
    else {
      try {
        await this.#o.onSecrets();
      } catch (e) {
        failure = `${XDS_PROBLEM.APPLY_FAILED}: ${(e as Error).message}`;
      }
    }
    if (s.ended) return;
    if (failure !== undefined) {
      this.#log.warn({ version, message: failure }, 'NACK: refused the secrets');
      return this.#requestSecrets(s, failure);
    }
    this.#secretsVersion = version;
    this.#requestSecrets(s);
  }

  #requestSecrets(s: Stream, nack?: string): void {
    const req: DiscoveryRequest = { versionInfo: this.#secretsVersion, resourceNames: [WORKLOAD_SECRET, ROOT_SECRET], typeUrl: SECRET_TYPE, responseNonce: s.sdsNonce };
    if (nack !== undefined) req.errorDetail = { code: INVALID_ARGUMENT, message: nack };
    if (!s.ended) s.call.write(withNode(serializeRequest(req), this.#ownNode));
  }

  #ended(s: Stream, end: StreamEnd): void {
    if (s.ended) return;
    this.#end(s);
    if (this.#retiring === s) this.#retiring = undefined;
    if (this.#stream !== s || this.#closed) return;
    this.#stream = undefined;
    this.#lastEnd = end;
    const delay = backoffDelay(this.#attempt++, this.#o.backoff ?? DEFAULT_BACKOFF, this.#o.random);
    this.#log.warn({ server: this.#o.server, reason: end.reason, delayMs: delay }, 'xDS stream ended; reconnecting');
    this.onStreamEnd(end);
    this.#o.onEnded?.(end);
    // The app may have asked again meanwhile (forward opened a new stream).
    if (this.#stream || this.#closed) return;
    this.#timer = setTimeout(() => this.#connect(), delay);
    this.#timer.unref();
  }

  #end(s: Stream): void {
    s.ended = true;
    clearTimeout(s.retireTimer);
    s.call.cancel();
    s.client.close();
  }

  #retire(s: Stream | undefined): void {
    if (!s) return;
    if (this.#retiring === s) this.#retiring = undefined;
    if (!s.ended) this.#end(s);
  }
}
