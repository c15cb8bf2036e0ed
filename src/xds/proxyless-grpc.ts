// What a proxyless gRPC node and the control plane agree on beyond node metadata: the name
// of its xDS server listeners and of the certificate provider its bootstrap declares. Written
// into the bootstrap by `trellis bootstrap --grpc`, read by the translator.

/**
 * The bootstrap's `server_listener_resource_name_template`: an xDS-enabled gRPC server asks
 * for the Listener named by it, `%s` replaced by the address it binds (`0.0.0.0:50051`, `[::]:50051`).
 */
export const GRPC_SERVER_LISTENER_TEMPLATE = 'trellis/grpc/server?listening_address=%s';

/** The bootstrap's certificate provider instance (gRPC's `file_watcher`) holding the workload certificate and the mesh roots. */
export const GRPC_CERT_PROVIDER_INSTANCE = 'trellis';

/** The listening address in a server listener name, or undefined when the name is not one. */
export function serverListenerAddress(name: string): string | undefined {
  const [prefix, suffix] = GRPC_SERVER_LISTENER_TEMPLATE.split('%s') as [string, string];
  if (!name.startsWith(prefix) || !name.endsWith(suffix) || name.length <= prefix.length + suffix.length) return undefined;
  return name.slice(prefix.length, name.length - suffix.length);
}
