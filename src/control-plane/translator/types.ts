// The translator's input (the mesh's resources and workloads) and output (one snapshot per proxy).
import type {
  AuthorizationPolicy,
  ExternalService,
  Gateway,
  GatewayClass,
  GRPCRoute,
  HTTPRoute,
  MeshConfigSpec,
  RequestAuthentication,
  Secret,
  Service,
  TCPRoute,
  TrafficPolicy,
} from '../../api/resource.js';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../xds/envoy-types.js';
import type { ProxyMetadata } from '../../xds/node-metadata.js';
import type { ResourceTypeUrl } from '../../xds/type-urls.js';
import type { Secret as TlsCertificateSecret } from '../../xds/tls-types.js';
import type { Workload } from '../registry/workload.js';

/** A fetched JWK Set: its JSON when one was ever obtained, and the last failure when the latest attempt failed. */
export interface FetchedJwks {
  readonly json?: string;
  readonly error?: string;
}

/** The stored resources the translator reads (everything but the workloads). */
export interface MeshState {
  services: readonly Service[];
  httpRoutes: readonly HTTPRoute[];
  /** Absent: none. */
  authorizationPolicies?: readonly AuthorizationPolicy[];
  meshConfig: MeshConfigSpec;
  /** Per-destination policies; absent means none. */
  trafficPolicies?: readonly TrafficPolicy[];
  grpcRoutes?: readonly GRPCRoute[];
  tcpRoutes?: readonly TCPRoute[];
  /** Absent: none. */
  requestAuthentications?: readonly RequestAuthentication[];
  /** The JWK Sets the control plane fetched or read, by `jwksUri` or `jwksFile` (see control-plane/jwks); absent: none yet. */
  jwks?: ReadonlyMap<string, FetchedJwks>;
  /** Services outside the mesh that proxies may reach; absent means none. */
  externalServices?: readonly ExternalService[];
  /** Gateway API: classes, Gateways and the TLS Secrets their listeners name; absent means none. */
  gatewayClasses?: readonly GatewayClass[];
  gateways?: readonly Gateway[];
  secrets?: readonly Secret[];
  /** Each Service's virtual IP by `ns/name`, and each external host's by `external/<host>` (transparent mode); none when absent. */
  virtualIps?: ReadonlyMap<string, string>;
  /** The control plane's own OTLP/HTTP receiver (base URL), for tracing when the MeshConfig names no collector. */
  defaultCollector?: string;
}

/**
 * Everything a snapshot is computed from. Treated as immutable: the translator caches
 * mesh-wide results per input object, so pass a new object when anything changes.
 */
export interface TranslatorInput extends MeshState {
  workloads: readonly Workload[];
  /** Set when the mesh runs mTLS (the control plane has a CA): listeners and clusters get TLS. */
  security?: { trustDomain: string };
}

/**
 * The proxy a snapshot is for: its node id and metadata, and for a proxyless gRPC node (kind
 * `grpc`) the listener names its xDS client subscribed to (they are not known in advance).
 */
export type ProxyNode = ProxyMetadata & { id: string; listenerNames?: readonly string[] };

/**
 * The complete xDS configuration of one proxy. Maps are in name order. Resource objects are
 * shared between snapshots and MUST NOT be mutated (their hashes and encodings are cached).
 * Invariant: consistent (see checkSnapshot): everything a listener or route names exists.
 */
export interface Snapshot {
  listeners: ReadonlyMap<string, Listener>;
  routes: ReadonlyMap<string, RouteConfiguration>;
  clusters: ReadonlyMap<string, Cluster>;
  endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
  /** Per type URL: a short hash of that type's resources, so unchanged config keeps its version. */
  versions: Readonly<Record<ResourceTypeUrl, string>>;
  /** Problems met while translating (unknown upstream, backend that does not exist, ...), each once. */
  warnings: readonly string[];
  /** A gateway's certificates and keys (SDS, names `gateway~NS~SECRET`), which the xDS server sends with its own secrets. */
  gatewaySecrets?: ReadonlyMap<string, TlsCertificateSecret>;
  /** SDS secrets of this proxy (added by the xDS server, never by the translator) and their version. */
  secrets?: ReadonlyMap<string, object>;
  secretsVersion?: string;
}
