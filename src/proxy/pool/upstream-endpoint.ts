// One upstream endpoint (address:port) as the data plane keeps it across config swaps: its
// in-flight request count (for least-request balancing) and its HTTP/1.1 and HTTP/2 pools.
import type { Pickable } from '../balancer/balancer.js';
import { H1Pool } from './h1-pool.js';
import { H2SessionPool } from './h2-session-pool.js';
import type net from 'node:net';
import { dialTcp, type DialOptions } from './dial-tcp.js';
import { dialMeshTls, type UpstreamTlsTarget } from './mesh-tls.js';
import { dialOriginationTls, type OriginationTarget } from './origination-tls.js';

export class UpstreamEndpoint implements Pickable {
  /** Requests in flight to this endpoint, over both pools. */
  active = 0;
  readonly h1: H1Pool;
  readonly h2: H2SessionPool;

  /** The last TLS session with this endpoint, offered for resumption on the next dial. */
  tlsSession: Buffer | undefined = undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    readonly tls?: UpstreamTlsTarget,
    readonly origination?: OriginationTarget,
  ) {
    const dialer = tls || origination ? this : undefined;
    this.h1 = new H1Pool(this.key, address, port, dialer);
    const host = address.includes(':') ? `[${address}]` : address;
    this.h2 = new H2SessionPool(this.key, `${dialer ? 'https' : 'http'}://${host}:${port}`, dialer);
  }

  /** Opens a connection: plain TCP, mTLS to a mesh peer, or TLS originated to an external host (caller listens for 'connect' or 'secureConnect'). */
  dial(alpn: string | undefined, opts: DialOptions = {}): net.Socket {
    if (!this.tls && !this.origination) return dialTcp(this.address, this.port, opts);
    const socket = this.tls
      ? dialMeshTls(this.address, this.port, this.tls, alpn, this.tlsSession, opts)
      : dialOriginationTls(this.address, this.port, this.origination!, this.tlsSession, opts);
    socket.on('session', (s: Buffer) => {
      this.tlsSession = s;
    });
    return socket;
  }

  /** `address:port` (IPv6 in brackets); also the endpoint's name in errors. */
  get key(): string {
    return endpointKey(this.address, this.port);
  }

  /** The endpoint left the config: close idle connections; in-flight requests finish. */
  retire(): void {
    this.h1.retire();
    this.h2.retire();
  }
}

/** The registry key for an endpoint. */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The registry key of an endpoint dialled with `sans` (each identity expectation gets its own pools), or with TLS originated by cluster `originatedBy`. */
export const endpointRegistryKey = (address: string, port: number, sans: readonly string[] | undefined, originatedBy?: string): string =>
  originatedBy !== undefined
    ? `${endpointKey(address, port)} originate ${originatedBy}`
    : sans === undefined
      ? endpointKey(address, port)
      : `${endpointKey(address, port)} tls ${sans.join(',')}`;
