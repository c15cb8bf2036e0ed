// How large an xDS message may be, agreed by the control plane and the proxies.

/**
 * The largest DiscoveryResponse a proxy receives and the control plane sends: 16 MiB.
 * grpc-js's default receive limit (4 MiB) was met by one valid Service of 10,000 ports; Envoy
 * and Istio deployments commonly raise xDS limits to this order. Per-resource validation keeps
 * every single resource far below it (see docs/configuration.md), so only a proxy whose whole
 * config of one type is this large meets it, and the control plane reports that instead of
 * sending a message the proxy would refuse by dropping its stream.
 */
export const XDS_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * The largest DiscoveryRequest the control plane accepts: a request carries the node (with its
 * metadata and, for mTLS, a CSR) and resource names, a few KiB; 4 MiB leaves room for thousands of names.
 */
export const XDS_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Renders a byte count for messages: `4214063 bytes (4.0 MiB)`. */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes} bytes (${(bytes / (1024 * 1024)).toFixed(1)} MiB)` : `${bytes} bytes`;
}
