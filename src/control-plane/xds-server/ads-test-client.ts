// A minimal ADS client over real gRPC for tests: send requests, await responses and the final status.
import * as grpc from '@grpc/grpc-js';
import { proxyMetadataToStruct, type ProxyMetadata } from '../../xds/node-metadata.js';
import { JOIN_TOKEN_HEADER } from '../../xds/spiffe.js';
import { adsServiceDefinition, type DiscoveryRequest } from './ads-service.js';

/** A decoded DiscoveryResponse: resources as plain objects with `@type`. */
export interface ReceivedResponse {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  resources?: ({ '@type': string; name?: string; clusterName?: string } & Record<string, unknown>)[];
}

const Client = grpc.makeGenericClientConstructor(adsServiceDefinition, 'AggregatedDiscoveryService');

export class AdsTestClient {
  readonly #client: grpc.Client;
  readonly #call: grpc.ClientDuplexStream<DiscoveryRequest, ReceivedResponse>;
  readonly #received: ReceivedResponse[] = [];
  #waiters: (() => void)[] = [];
  readonly status: Promise<grpc.StatusObject>;

  /**
   * A stream to 127.0.0.1:port (or a `host:port` target); with `rootCertsPem` over TLS, with
   * `joinToken` presented as `authorization: Bearer <token>`, as a sidecar does.
   */
  constructor(target: number | string, opts: { rootCertsPem?: string; joinToken?: string } = {}) {
    const address = typeof target === 'number' ? `127.0.0.1:${target}` : target;
    this.#client = new Client(address, opts.rootCertsPem ? grpc.credentials.createSsl(Buffer.from(opts.rootCertsPem)) : grpc.credentials.createInsecure());
    const method = (this.#client as unknown as Record<string, (md?: grpc.Metadata) => grpc.ClientDuplexStream<DiscoveryRequest, ReceivedResponse>>).StreamAggregatedResources!;
    const md = new grpc.Metadata();
    if (opts.joinToken) md.set(JOIN_TOKEN_HEADER, `Bearer ${opts.joinToken}`);
    this.#call = method.call(this.#client, md);
    this.#call.on('data', (r: ReceivedResponse) => {
      this.#received.push(r);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.#call.on('error', () => {
      /* reported through status */
    });
    this.status = new Promise((resolve) => this.#call.on('status', resolve));
  }

  /** The node of a first request, with `metadata` encoded as a Struct. */
  static node(id: string, metadata: ProxyMetadata): DiscoveryRequest['node'] {
    return { id, metadata: proxyMetadataToStruct(metadata) };
  }

  send(req: DiscoveryRequest): void {
    this.#call.write(req);
  }

  /** Sends an ACK of a response (same version and nonce, same names). */
  ack(r: ReceivedResponse, resourceNames: string[] = []): void {
    this.send({ typeUrl: r.typeUrl, versionInfo: r.versionInfo, responseNonce: r.nonce, resourceNames });
  }

  /** The next response not yet taken (of `typeUrl` if given; others stay queued). */
  async next(typeUrl?: string, timeoutMs = 2000): Promise<ReceivedResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#received.findIndex((r) => !typeUrl || r.typeUrl === typeUrl);
      if (i >= 0) return this.#received.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${typeUrl ?? 'response'} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Responses received and not taken yet. */
  pending(): ReceivedResponse[] {
    return [...this.#received];
  }

  close(): void {
    this.#call.cancel();
    this.#client.close();
  }
}
