// The subset of Envoy v3 resources that Trellis produces and consumes, in the plain-object
// form protobufjs gives with TO_OBJECT (camelCase fields, `@type` on Any, enums as strings,
// wrapper types as `{ value }`, durations as `{ seconds, nanos }`). The translator writes
// these; the proxy's xDS client reads them. Fields not listed here are neither sent nor read.
import type { ProtoStruct } from './node-metadata.js';
import type { TransportSocket } from './tls-types.js';

export interface Duration {
  seconds?: number;
  nanos?: number;
}
export interface UInt32Value {
  value: number;
}
/** `ipv4Compat` on `::` takes IPv4 connections too (dual stack), as in Envoy. */
export interface SocketAddress {
  address: string;
  portValue: number;
  ipv4Compat?: boolean;
}
export interface Address {
  socketAddress: SocketAddress;
}
/** Envoy's ConfigSource pointing at the aggregated stream. */
export interface AdsConfigSource {
  ads: Record<string, never>;
  resourceApiVersion?: 'V3';
}

/** google.protobuf.Struct decoded to JSON (used for node and filter metadata). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** Filter metadata is a google.protobuf.Struct on the wire: build it with jsonToStruct (node-metadata.ts), since protobufjs encodes plain JSON as an empty Struct. */
export interface Metadata {
  filterMetadata?: Record<string, ProtoStruct>;
}

// ---- Listener (LDS) ----
export interface Listener {
  name: string;
  /** Absent on an API listener (proxyless gRPC), which has no socket. */
  address?: Address;
  /** Trellis sets `trafficDirection` so the proxy knows inbound from outbound. */
  trafficDirection?: 'INBOUND' | 'OUTBOUND';
  filterChains: FilterChain[];
  /** Transparent mode: connections were redirected here; filter chains match on their original destination. */
  useOriginalDst?: { value: boolean };
  /** Where a connection goes when no filter chain matches. */
  defaultFilterChain?: FilterChain;
  listenerFilters?: { name: string; typedConfig: { '@type': string } }[];
  /** How long the listener filters (protocol detection) may wait for a client's first bytes. */
  listenerFiltersTimeout?: Duration;
  /** On that timeout, go on (as opaque TCP) instead of closing the connection. */
  continueOnListenerFiltersTimeout?: boolean;
  /** Proxyless gRPC clients: the listener is the channel's HCM (no socket, no filter chains). */
  apiListener?: { apiListener: ApiHttpConnectionManager };
}
export interface FilterChain {
  name?: string;
  /** PERMISSIVE inbound listeners: `tls` for the mTLS chain, `raw_buffer` for the plaintext one. */
  filterChainMatch?: FilterChainMatch;
  filters: NetworkFilter[];
  transportSocket?: TransportSocket;
}
/** Envoy's filter chain match: the most specific destination range, then port, then transport and application protocols. */
export interface FilterChainMatch {
  destinationPort?: UInt32Value;
  prefixRanges?: { addressPrefix: string; prefixLen: UInt32Value }[];
  /** `tls` (a ClientHello came) or `raw_buffer`. */
  transportProtocol?: string;
  /** What protocol detection saw: `http/1.1`, `h2c`. */
  applicationProtocols?: string[];
  /** Gateway HTTPS listeners: the TLS SNI names (exact or `*.suffix`) this chain serves. */
  serverNames?: string[];
}
export type NetworkFilter =
  { name: 'envoy.filters.network.http_connection_manager'; typedConfig: HttpConnectionManager } | { name: 'envoy.filters.network.tcp_proxy'; typedConfig: TcpProxy };

export interface HttpConnectionManager {
  '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
  statPrefix: string;
  /** AUTO: HTTP/1.1 and HTTP/2 (prior knowledge) are both accepted on the listener. */
  codecType?: 'AUTO' | 'HTTP1' | 'HTTP2';
  /** Exactly one of rds and routeConfig is set. */
  rds?: { routeConfigName: string; configSource: AdsConfigSource };
  /** The route table inline (a proxyless gRPC server's, which routes nothing: see proxyless-server-listeners.ts). */
  routeConfig?: RouteConfiguration;
  httpFilters: { name: string; typedConfig: { '@type': string } }[];
  /** Span sampling and the OpenTelemetry (OTLP/HTTP) provider; see translator/telemetry.ts. */
  tracing?: object;
  /** Stdout access log with a sampling filter. */
  accessLog?: object[];
  /** RFC 3986 path normalization before filters and routing (see translator/path-normalization.ts). */
  normalizePath?: { value: boolean };
  mergeSlashes?: boolean;
  pathWithEscapedSlashesAction?: 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';
}

/** The HCM of an API listener (proxyless gRPC): only its routes and HTTP filters matter. */
export interface ApiHttpConnectionManager {
  '@type': HttpConnectionManager['@type'];
  rds: { routeConfigName: string; configSource: AdsConfigSource };
  httpFilters: { name: string; typedConfig: { '@type': string } }[];
}

export interface TcpProxy {
  '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
  statPrefix: string;
  /** Exactly one of cluster and weightedClusters is set. */
  cluster?: string;
  weightedClusters?: { clusters: { name: string; weight: number }[] };
}

// ---- RouteConfiguration (RDS) ----
export interface RouteConfiguration {
  name: string;
  virtualHosts: VirtualHost[];
}
export interface VirtualHost {
  name: string;
  /** Host names with or without `:port`; `*` matches every host. */
  domains: string[];
  /** Evaluated in order; the first match wins (the translator orders by Gateway API precedence). */
  routes: Route[];
  /** Retries of every route of the host that sets none itself. */
  retryPolicy?: RetryPolicy;
  /** Per-filter settings of the host (fault, local_ratelimit), by filter name; a route's own replace them. */
  typedPerFilterConfig?: Record<string, HTTPFault | LocalRateLimit>;
}
export interface Route {
  name?: string;
  match: RouteMatch;
  /** Exactly one of route, redirect and nonForwardingAction is set. */
  route?: RouteAction;
  redirect?: RedirectAction;
  /** A server's route (gRPC A36): the request is served here, not forwarded. */
  nonForwardingAction?: Record<string, never>;
  typedPerFilterConfig?: Record<string, HTTPFault | LocalRateLimit>;
  requestHeadersToAdd?: HeaderValueOption[];
  requestHeadersToRemove?: string[];
  responseHeadersToAdd?: HeaderValueOption[];
  responseHeadersToRemove?: string[];
}
/** Set replaces (OVERWRITE_IF_EXISTS_OR_ADD), add appends (APPEND_IF_EXISTS_OR_ADD). */
export interface HeaderValueOption {
  header: { key: string; value: string };
  appendAction: 'APPEND_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS_OR_ADD';
}
export interface RedirectAction {
  schemeRedirect?: string;
  hostRedirect?: string;
  portRedirect?: number;
  pathRedirect?: string;
  prefixRewrite?: string;
  responseCode?: 'MOVED_PERMANENTLY' | 'FOUND';
}
/** Exactly one of prefix, path, pathSeparatedPrefix, safeRegex is set. */
export interface RouteMatch {
  prefix?: string;
  path?: string;
  /** Gateway API PathPrefix: matches the prefix on path-element boundaries (`/foo` matches `/foo/bar`, not `/foobar`). */
  pathSeparatedPrefix?: string;
  safeRegex?: { regex: string };
  /** All must match. The method is matched as the pseudo-header `:method`. */
  headers?: HeaderMatcher[];
  queryParameters?: { name: string; stringMatch: StringMatcher }[];
}
export interface HeaderMatcher {
  name: string;
  stringMatch?: StringMatcher;
  presentMatch?: boolean;
  invertMatch?: boolean;
}
export interface StringMatcher {
  exact?: string;
  prefix?: string;
  safeRegex?: { regex: string };
  ignoreCase?: boolean;
}
/** Exactly one of cluster and weightedClusters is set. */
export interface RouteAction {
  cluster?: string;
  weightedClusters?: { clusters: { name: string; weight: UInt32Value }[] };
  timeout?: Duration;
  retryPolicy?: RetryPolicy;
  /** Ring-hash key of the request (the first policy that yields a value is used). */
  hashPolicy?: HashPolicy[];
  requestMirrorPolicies?: { cluster: string; runtimeFraction?: { defaultValue: FractionalPercent } }[];
  /** Replaces the matched prefix (Trellis: on path-element boundaries, as the Gateway API's ReplacePrefixMatch). */
  prefixRewrite?: string;
  /** Trellis writes only `^/.*$` patterns: the whole path is replaced. */
  regexRewrite?: { pattern: { regex: string }; substitution: string };
  hostRewriteLiteral?: string;
  /** Proxyless gRPC reads the call's timeout here (gRPC A31), not from `timeout`. */
  maxStreamDuration?: { maxStreamDuration?: Duration };
}

/** route.v3.RetryPolicy: `retryOn` is Envoy's comma-separated condition list. */
export interface RetryPolicy {
  retryOn: string;
  numRetries?: UInt32Value;
  perTryTimeout?: Duration;
  retriableStatusCodes?: number[];
  retryBackOff?: { baseInterval: Duration; maxInterval?: Duration };
  /** Retries only for requests that match all of these (Trellis: `:method` for idempotent methods). */
  retriableRequestHeaders?: HeaderMatcher[];
}
export type HashPolicy =
  | { header: { headerName: string } }
  | { cookie: { name: string } }
  | { connectionProperties: { sourceIp: boolean } }
  /** Proxyless gRPC: `io.grpc.channel_id` hashes every call of one channel alike (gRPC A42). */
  | { filterState: { key: string } };

/** Envoy's FractionalPercent. */
export interface FractionalPercent {
  numerator: number;
  denominator?: 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION';
}

/** extensions.filters.http.fault.v3.HTTPFault (per route or virtual host). */
export interface HTTPFault {
  '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
  delay?: { fixedDelay: Duration; percentage: FractionalPercent };
  abort?: { httpStatus?: number; grpcStatus?: number; percentage: FractionalPercent };
  headers?: HeaderMatcher[];
}

/** extensions.filters.http.local_ratelimit.v3.LocalRateLimit (per route or virtual host). */
export interface LocalRateLimit {
  '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
  statPrefix: string;
  tokenBucket?: { maxTokens: number; tokensPerFill?: UInt32Value; fillInterval: Duration };
  filterEnabled?: { defaultValue: FractionalPercent; runtimeKey: string };
  filterEnforced?: { defaultValue: FractionalPercent; runtimeKey: string };
}

// ---- Cluster (CDS) ----
export interface Cluster {
  name: string;
  /** STRICT_DNS: the endpoints are host names the proxy resolves when it connects (external hosts). */
  type: 'EDS' | 'STATIC' | 'ORIGINAL_DST' | 'STRICT_DNS';
  edsClusterConfig?: { edsConfig: AdsConfigSource; serviceName?: string };
  connectTimeout?: Duration;
  lbPolicy?: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'CLUSTER_PROVIDED';
  /** STATIC clusters carry their endpoints inline (used for the inbound cluster to the local app). */
  loadAssignment?: ClusterLoadAssignment;
  /** `filterMetadata.trellis`: { service, namespace, port } of the destination, for metrics and logs. */
  metadata?: Metadata;
  /** mTLS to the endpoints (see tls-types.ts). */
  transportSocket?: TransportSocket;
  ringHashLbConfig?: { minimumRingSize?: { value: number } };
  circuitBreakers?: { thresholds: CircuitBreakerThresholds[] };
  outlierDetection?: OutlierDetection;
  /** The upstream HTTP protocol, keyed by the options' type name (HttpProtocolOptions only). */
  typedExtensionProtocolOptions?: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': HttpProtocolOptions };
}

/** How a cluster speaks HTTP to its endpoints: one protocol (explicit), or the downstream's. */
export interface HttpProtocolOptions {
  '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
  explicitHttpConfig?: { httpProtocolOptions: Record<string, never> } | { http2ProtocolOptions: Record<string, never> };
  useDownstreamProtocolConfig?: Record<string, never>;
}

export interface CircuitBreakerThresholds {
  priority?: 'DEFAULT' | 'HIGH';
  maxConnections?: UInt32Value;
  maxPendingRequests?: UInt32Value;
  maxRequests?: UInt32Value;
  maxRetries?: UInt32Value;
  retryBudget?: { budgetPercent?: { value: number }; minRetryConcurrency?: UInt32Value };
}

export interface OutlierDetection {
  /** protobufjs keeps the underscore before a digit: `consecutive_5xx`. */
  consecutive_5xx?: UInt32Value;
  enforcingConsecutive_5xx?: UInt32Value;
  interval?: Duration;
  baseEjectionTime?: Duration;
  maxEjectionPercent?: UInt32Value;
  failurePercentageThreshold?: UInt32Value;
  enforcingFailurePercentage?: UInt32Value;
  failurePercentageMinimumHosts?: UInt32Value;
  failurePercentageRequestVolume?: UInt32Value;
  /** 0 turns success-rate ejection off (on by default in Envoy and gRPC). */
  enforcingSuccessRate?: UInt32Value;
  /** At least one host is ejected whatever maxEjectionPercent allows. */
  alwaysEjectOneHost?: { value: boolean };
}

// ---- ClusterLoadAssignment (EDS) ----
export interface ClusterLoadAssignment {
  clusterName: string;
  endpoints: LocalityLbEndpoints[];
}
export interface LocalityLbEndpoints {
  lbEndpoints: LbEndpoint[];
  /** Proxyless gRPC requires a locality and skips one without a weight. */
  locality?: { region?: string; zone?: string; subZone?: string };
  loadBalancingWeight?: UInt32Value;
}
export interface LbEndpoint {
  endpoint: { address: Address };
  healthStatus?: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY' | 'DRAINING';
  loadBalancingWeight?: UInt32Value;
  /** `filterMetadata.trellis`: { workload, labels } of the endpoint. */
  metadata?: Metadata;
}
