// What the xDS server reports about its own work: responses and their encoded size, how long a
// change took to reach a proxy, NACKs, and the time to compute a proxy's snapshot. Plain calls
// into whatever counts them (the control plane's /metrics); a no-op when nothing listens.
import type { NodeKind } from '../../xds/node-metadata.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, type ServedTypeUrl } from '../../xds/type-urls.js';

/** The short name of each served type, as the `type` label of the control plane's xDS metrics. */
export const XDS_TYPE_LABELS: Readonly<Record<ServedTypeUrl, string>> = {
  [CLUSTER_TYPE]: 'cds',
  [ENDPOINT_TYPE]: 'eds',
  [LISTENER_TYPE]: 'lds',
  [ROUTE_TYPE]: 'rds',
  [SECRET_TYPE]: 'sds',
};

export interface XdsMetrics {
  /** A DiscoveryResponse of `typeUrl` was written on a stream, `bytes` long encoded. */
  responseSent(typeUrl: ServedTypeUrl, bytes: number): void;
  /** A response written to a proxy of `kind` carried a change that arrived `seconds` before. */
  pushed(typeUrl: ServedTypeUrl, kind: NodeKind, seconds: number): void;
  /** A proxy refused a response of `typeUrl`. */
  nacked(typeUrl: ServedTypeUrl): void;
  /** A snapshot was computed for a proxy of `kind` in `seconds`. */
  snapshotComputed(kind: NodeKind, seconds: number): void;
}

export const NO_XDS_METRICS: XdsMetrics = {
  responseSent() {},
  pushed() {},
  nacked() {},
  snapshotComputed() {},
};
