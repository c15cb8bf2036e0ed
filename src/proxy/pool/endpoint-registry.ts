// Upstream endpoints by address:port, kept across config swaps so that connection pools
// survive as long as some cluster still lists the endpoint.
import { detachedHandshakeCounts, type TlsHandshakeCounts } from '../metrics/tls-handshakes.js';
import { IDLE_TIMEOUT_MS } from './h1-pool.js';
import { endpointKey, endpointRegistryKey, UpstreamEndpoint } from './upstream-endpoint.js';
import type { OriginationTls, UpstreamTls } from '../config/runtime-config.js';
import { originationKey, originationTarget } from './origination-tls.js';
import type { TlsSource } from '../identity/proxy-identity.js';

export class EndpointRegistry {
  private readonly endpoints = new Map<string, UpstreamEndpoint>();
  private readonly sweeper: NodeJS.Timeout;

  /**
   * `handshakes` gives the outbound mTLS handshake counts of a Service (ProxyMetrics.tlsHandshakes);
   * `onH1Free` hears of every HTTP/1.1 connection that goes idle or closes (pending requests).
   */
  constructor(
    private readonly tlsSource?: TlsSource,
    private readonly handshakes: (service: string) => TlsHandshakeCounts = () => detachedHandshakeCounts('outbound'),
    private readonly onH1Free?: () => void,
  ) {
    this.sweeper = setInterval(() => this.sweep(), IDLE_TIMEOUT_MS / 4);
    this.sweeper.unref();
  }

  /**
   * The endpoint for address:port, created on first use. Its handshakes count under `service`,
   * the first cluster's to list it: clusters expecting the same identities are one Service.
   */
  get(address: string, port: number, tls?: UpstreamTls, service = 'unknown', origination?: { cluster: string; tls: OriginationTls }): UpstreamEndpoint {
    const key = endpointRegistryKey(address, port, tls?.sans, origination ? originationKey(origination.cluster, origination.tls) : undefined);
    let e = this.endpoints.get(key);
    if (e === undefined) {
      if (tls && !this.tlsSource) throw new Error(`cluster asks for mTLS to ${endpointKey(address, port)} but this proxy has no identity`);
      e = new UpstreamEndpoint(
        address,
        port,
        tls && this.tlsSource ? { source: this.tlsSource, sans: tls.sans, handshakes: this.handshakes(service) } : undefined,
        origination ? originationTarget(origination.tls, this.handshakes(service)) : undefined,
      );
      e.h1.onFree = this.onH1Free;
      this.endpoints.set(key, e);
    }
    return e;
  }

  /** Retires every endpoint not in `keep` (their pools close once idle). */
  retainOnly(keep: ReadonlySet<UpstreamEndpoint>): void {
    for (const [key, e] of this.endpoints) {
      if (keep.has(e)) continue;
      this.endpoints.delete(key);
      e.retire();
    }
  }

  /** Every endpoint currently known. */
  all(): IterableIterator<UpstreamEndpoint> {
    return this.endpoints.values();
  }

  /** Retires everything and stops the idle sweep. */
  close(): void {
    clearInterval(this.sweeper);
    this.retainOnly(new Set());
  }

  private sweep(): void {
    const now = Date.now();
    for (const e of this.endpoints.values()) e.h1.sweep(now);
  }
}
