// Test support: a scripted ADS server over a real gRPC socket. Tests read the client's
// requests in order with `take` and answer with `send`, like a control plane would.
import * as grpc from '@grpc/grpc-js';
import { typeUrl } from '../../xds/type-urls.js';
import { ADS_SERVICE, type DiscoveryRequest, type DiscoveryResponse } from './ads-service.js';
import { any } from './xds-fixtures.js';

type Call = grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
interface Waiter {
  match: (r: DiscoveryRequest) => boolean;
  resolve: (r: DiscoveryRequest) => void;
}

export class FakeAdsServer {
  private server: grpc.Server | undefined;
  private readonly calls = new Set<Call>();
  /** Requests not yet taken by the test, oldest first. */
  private readonly pending: DiscoveryRequest[] = [];
  private readonly waiters: Waiter[] = [];
  private nonce = 0;
  /** Streams opened since start (a reconnecting client opens a new one). */
  streams = 0;
  port = 0;

  /** Listens on 127.0.0.1:`port` (0: any free port) and returns the port. */
  async start(port = 0): Promise<number> {
    const server = new grpc.Server();
    server.addService(ADS_SERVICE, {
      StreamAggregatedResources: (call: Call) => {
        this.streams++;
        this.calls.add(call);
        call.on('data', (req: DiscoveryRequest) => this.received(req));
        call.on('end', () => call.end());
        call.on('error', () => {});
        call.on('close', () => this.calls.delete(call));
        call.on('cancelled', () => this.calls.delete(call));
      },
    });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    this.server = server;
    return this.port;
  }

  /** Sends a response of `typeName` resources to every open stream; returns its nonce. */
  send(typeName: string, version: string, resources: object[]): string {
    const nonce = `n${++this.nonce}`;
    const res: DiscoveryResponse = { versionInfo: version, typeUrl: typeUrl(typeName), nonce, resources: resources.map((r) => any(typeName, r)) };
    for (const call of this.calls) call.write(res);
    return nonce;
  }

  /** Sends a response whose resources are the given Any values as bytes (e.g. ones that do not decode); returns its nonce. */
  sendRaw(typeName: string, version: string, values: Uint8Array[]): string {
    const nonce = `n${++this.nonce}`;
    const url = typeUrl(typeName);
    const res = { versionInfo: version, typeUrl: url, nonce, resources: values.map((value) => ({ type_url: url, value })) } as unknown as DiscoveryResponse;
    for (const call of this.calls) call.write(res);
    return nonce;
  }

  /** The oldest request not yet taken that `match`es (waiting up to `timeoutMs`). */
  take(match: (r: DiscoveryRequest) => boolean = () => true, timeoutMs = 3000): Promise<DiscoveryRequest> {
    const i = this.pending.findIndex(match);
    if (i >= 0) return Promise.resolve(this.pending.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { match, resolve: (r) => (clearTimeout(timer), resolve(r)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching DiscoveryRequest within ${timeoutMs} ms; pending: ${JSON.stringify(this.pending.map((r) => [r.typeUrl, r.versionInfo, r.resourceNames]))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Requests received and not taken. */
  get untaken(): readonly DiscoveryRequest[] {
    return this.pending;
  }

  /** Stops at once, cutting open streams (as a crashed control plane would). */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
    this.calls.clear();
  }

  private received(req: DiscoveryRequest): void {
    const w = this.waiters.findIndex((x) => x.match(req));
    if (w >= 0) this.waiters.splice(w, 1)[0]!.resolve(req);
    else this.pending.push(req);
  }
}
