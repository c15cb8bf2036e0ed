// A captured connection's original destination as a relay endpoint (ORIGINAL_DST clusters, the
// PassthroughCluster): dialled in plain TCP, or with mTLS when its cluster asks for it (a
// STRICT workload's undeclared port).
import type net from 'node:net';
import { dialTcp, type DialOptions } from '../pool/dial-tcp.js';
import { dialMeshTls, type UpstreamTlsTarget } from '../pool/mesh-tls.js';
import { endpointKey } from '../pool/upstream-endpoint.js';
import type { TcpEndpoint } from './tcp-layer.js';

export class OriginalDestination implements TcpEndpoint {
  readonly key: string;
  active = 0;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly tls: UpstreamTlsTarget | undefined,
  ) {
    this.key = endpointKey(address, port);
  }

  dial(alpn: string | undefined, opts: DialOptions): net.Socket {
    if (this.tls === undefined) return dialTcp(this.address, this.port, opts);
    return dialMeshTls(this.address, this.port, this.tls, alpn, undefined, opts);
  }
}
