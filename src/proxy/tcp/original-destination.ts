// A captured connection's original destination as a relay endpoint (ORIGINAL_DST clusters, the
// PassthroughCluster): dialled in plain TCP, or with mTLS when its cluster asks for it (a
// STRICT workload's undeclared port).
import net from 'node:net';
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

  dial(alpn: string | undefined, opts: { allowHalfOpen?: boolean }): net.Socket {
    if (this.tls === undefined) return net.connect({ host: this.address, port: this.port, allowHalfOpen: opts.allowHalfOpen ?? false, noDelay: true });
    return dialMeshTls(this.address, this.port, this.tls, alpn, undefined, opts);
  }
}
