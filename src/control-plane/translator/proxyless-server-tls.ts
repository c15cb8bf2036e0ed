// mTLS on a proxyless gRPC server's listener (gRPC A29): as a sidecar's inbound listener, the
// workload certificate is presented and a client certificate chaining to the mesh roots is
// required, but both come from the bootstrap's certificate provider instance (a file watcher
// the agent keeps fresh on disk) instead of SDS.
import { GRPC_CERT_PROVIDER_INSTANCE } from '../../xds/proxyless-grpc.js';
import { ROOT_SECRET, WORKLOAD_SECRET } from '../../xds/spiffe.js';
import type { TransportSocket } from '../../xds/tls-types.js';
import { DOWNSTREAM_TLS_CONTEXT, TRANSPORT_SOCKET_TLS, typeUrl } from '../../xds/type-urls.js';

/**
 * The server's DownstreamTlsContext. No `tlsParams` (gRPC NACKs them) and no ALPN (gRPC
 * negotiates h2 itself). A file watcher ignores `certificateName`; it names the SDS secret
 * whose content the agent writes to that file.
 */
export function proxylessServerTls(): TransportSocket {
  return {
    name: TRANSPORT_SOCKET_TLS,
    typedConfig: {
      '@type': typeUrl(DOWNSTREAM_TLS_CONTEXT) as 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      commonTlsContext: {
        tlsCertificateProviderInstance: { instanceName: GRPC_CERT_PROVIDER_INSTANCE, certificateName: WORKLOAD_SECRET },
        validationContext: { caCertificateProviderInstance: { instanceName: GRPC_CERT_PROVIDER_INSTANCE, certificateName: ROOT_SECRET } },
      },
      requireClientCertificate: { value: true },
    },
  };
}
