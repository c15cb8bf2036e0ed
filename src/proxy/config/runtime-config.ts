// The proxy's immutable runtime configuration: what the xDS client decodes from the Envoy
// resources it accepted, and what the data path builds its listeners, routers, balancers
// and pools from. A new RuntimeConfig replaces the old one as a whole (STYLE 4); requests
// in flight keep the objects they started with.
//
// Invariant: every cluster named by a listener or route exists in `clusters` (the decoder
// checks this before the config is accepted; a route to a missing cluster is a NACK).

import type { AccessLogField } from '../../api/access-log-fields.js';
import type { OtlpProtocol } from '../../api/telemetry.js';
import type { HeaderMods, MirrorConfig, RedirectConfig, RewriteConfig } from './route-filter-config.js';
import type { CircuitLimits, FaultConfig, HashConfig, OutlierConfig, RateLimitConfig, RetryConfig } from './resilience-config.js';

export type Direction = 'inbound' | 'outbound';
export type LbPolicy = 'round_robin' | 'least_request' | 'random' | 'ring_hash';

export interface ResourceVersions {
  listeners: string;
  routes: string;
  clusters: string;
  endpoints: string;
}

export interface RuntimeConfig {
  readonly versions: ResourceVersions;
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  readonly routes: ReadonlyMap<string, RouteTable>;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
}

export interface WeightedCluster {
  readonly cluster: string;
  /** Non-negative; a set of all-zero weights means no backend (the proxy answers 503). */
  readonly weight: number;
}

export interface HttpListenerConfig {
  readonly name: string;
  readonly direction: Direction;
  readonly address: string;
  readonly port: number;
  readonly protocol: 'http';
  /** Which RouteTable this listener routes with (looked up per request, so RDS-only updates apply). */
  readonly routeTable: string;
  /** True for the HTTP proxy listener (`HTTP_PROXY`): requests carry absolute URIs. */
  readonly httpProxy: boolean;
  /** Inbound mTLS, when the listener terminates it. */
  readonly tls?: InboundTls;
  /** A gateway's HTTPS: TLS terminated with its own certificates, chosen by SNI; no client certificate. */
  readonly terminate?: TerminatingTls;
  /** Authorization (RBAC) evaluated in order on every request; absent: none. */
  readonly authz?: readonly AuthzRules[];
  /** Request authentication (end-user JWTs), before authorization; absent: none. */
  readonly jwt?: JwtConfig;
  /** Tracing and access logs of this listener (from the HCM's `tracing` and `access_log`); none when absent. */
  readonly telemetry?: ListenerTelemetry;
  /** How request paths are normalized before authorization and routing; absent: left as sent. */
  readonly pathNormalization?: PathNormalization;
}

/** Envoy's HttpConnectionManager.path_with_escaped_slashes_action (what `%2F` and `%5C` in a path get). */
export type EscapedSlashesAction = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

/** The HCM's path settings (see routing/normalize-path.ts); a listener with none of them has no PathNormalization. */
export interface PathNormalization {
  /** normalize_path: RFC 3986 dot segments, unreserved characters decoded, escapes in upper case, `\` as `/`. */
  readonly normalizePath: boolean;
  /** merge_slashes: runs of `/` become one. */
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: EscapedSlashesAction;
}

/** What the HTTP connection manager asked for: span sampling and export, access log sampling. */
export interface ListenerTelemetry {
  /** Percent of new traces sampled (0-100); a caller's sampled flag is always honoured. Undefined: no tracing. */
  readonly tracingPercent?: number;
  /** OTLP/HTTP base URL spans go to (POST {collector}/v1/traces), or the gRPC endpoint. */
  readonly collector?: string;
  /** How spans travel to `collector`; undefined: http/protobuf (Envoy's http_service). */
  readonly collectorProtocol?: OtlpProtocol;
  /** True when the collector is the control plane's own receiver (HttpUri cluster CONTROL_PLANE_CLUSTER): reached the way xDS is. */
  readonly collectorIsControlPlane?: boolean;
  /** Percent of requests written to the access log (0-100). Undefined: no access log. */
  readonly accessLogPercent?: number;
  /** Only requests that meet one of these are logged (Envoy's status code and duration filters); undefined: all sampled ones. */
  readonly accessLogFilter?: AccessLogCondition;
  /** The JSON line's keys and the field each carries (Envoy's json_format); undefined: the full line. */
  readonly accessLogFormat?: readonly (readonly [key: string, field: AccessLogField])[];
}

/** Either threshold met is enough. */
export interface AccessLogCondition {
  readonly minStatusCode?: number;
  readonly minDurationMs?: number;
}

export interface TcpListenerConfig {
  readonly name: string;
  readonly direction: Direction;
  readonly address: string;
  readonly port: number;
  readonly protocol: 'tcp';
  readonly clusters: readonly WeightedCluster[];
  /** Inbound mTLS, when the listener terminates it. */
  readonly tls?: InboundTls;
  /** Authorization (RBAC) evaluated in order before the connection is relayed; absent: none. */
  readonly authz?: readonly AuthzRules[];
}

export type { AuthzRules } from './authz-config.js';
import type { AuthzRules } from './authz-config.js';
import type { JwtConfig } from './jwt-config.js';
import type { SafeRegex } from './safe-regex.js';

/** strict: TLS with a client certificate chaining to the mesh roots, nothing else; permissive: plaintext accepted too. */
export interface InboundTls {
  readonly mode: 'strict' | 'permissive';
}

/** A gateway HTTPS listener's certificates (SDS `gateway~` secret names) by SNI name, and those for clients whose SNI no chain names. */
export interface TerminatingTls {
  /** In the listener's order; `serverNames` exact or `*.suffix`, empty: any name. */
  readonly chains: readonly { readonly serverNames: readonly string[]; readonly secrets: readonly string[] }[];
  readonly defaultSecrets?: readonly string[];
}

/** Outbound mTLS: the server must present one of these SPIFFE IDs. */
export interface UpstreamTls {
  readonly sans: readonly string[];
}

/** TLS originated to an external host: its certificate checked against `ca` (absent: the default roots) and `serverName`. */
export interface OriginationTls {
  readonly serverName: string;
  /** PEM CA certificates; absent: Node's default root store. */
  readonly ca?: string;
}

/** What protocol detection can tell about a captured connection's first bytes. */
export type DetectedProtocol = 'http/1.1' | 'h2c' | 'tls' | 'opaque';

/** Which captured connections a filter chain takes (Envoy's FilterChainMatch, the parts Trellis uses). */
export interface ChainMatch {
  /** Original destination ranges; empty matches every address. */
  readonly prefixes: readonly { readonly address: string; readonly prefixLength: number }[];
  /** Original destination port; undefined matches every port. */
  readonly port?: number;
  /** `tls` or `raw_buffer`; undefined matches both. */
  readonly transport?: 'tls' | 'raw_buffer';
  /** Application protocols: detected on plaintext (`http/1.1`, `h2c`), the ClientHello's ALPN on TLS; empty matches every connection. */
  readonly appProtocols: readonly string[];
}

export interface CaptureChain {
  readonly name: string;
  readonly match: ChainMatch;
  readonly action:
    | { readonly kind: 'http'; readonly routeTable: string; readonly telemetry?: ListenerTelemetry; readonly pathNormalization?: PathNormalization; readonly jwt?: JwtConfig }
    | { readonly kind: 'tcp'; readonly clusters: readonly WeightedCluster[] };
  /** The chain terminates mTLS (its transport socket): always strict, the chain match decides who gets here. */
  readonly tls?: InboundTls;
  /** Authorization (RBAC): per request for HTTP chains, per connection for TCP chains; absent: none. */
  readonly authz?: readonly AuthzRules[];
}

/**
 * Transparent mode: a listener that iptables redirects connections to. Each connection's
 * original destination (SO_ORIGINAL_DST) and, where chains differ by protocol, its detected
 * protocol pick the filter chain; no match takes `defaultChain`.
 */
export interface CaptureListenerConfig {
  readonly name: string;
  readonly direction: Direction;
  readonly address: string;
  readonly port: number;
  readonly protocol: 'capture';
  /** On `::`: IPv4 connections too (dual stack); without it an IPv6 address takes IPv6 only, as in Envoy. */
  readonly ipv4Compat?: boolean;
  readonly chains: readonly CaptureChain[];
  readonly defaultChain?: CaptureChain;
  /** How long detection waits for a client's first bytes before treating it as opaque TCP. */
  readonly detectionTimeoutMs: number;
}

export type ListenerConfig = HttpListenerConfig | TcpListenerConfig | CaptureListenerConfig;

export interface RouteTable {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHost[];
}

export interface VirtualHost {
  readonly name: string;
  /** Lower-case host names, with `:port` or without; `*` matches every host. */
  readonly domains: readonly string[];
  /** In order; the first match wins. */
  readonly routes: readonly RouteRule[];
}

export type PathMatch =
  | { readonly type: 'exact'; readonly value: string }
  | { readonly type: 'prefix'; readonly value: string }
  /** Gateway API PathPrefix: matches on path-element boundaries. */
  | { readonly type: 'segment-prefix'; readonly value: string }
  | { readonly type: 'regex'; readonly regex: SafeRegex };

export interface HeaderMatch {
  /** Lower-case header name; `:method` for the method. */
  readonly name: string;
  readonly match: { readonly type: 'exact'; readonly value: string } | { readonly type: 'regex'; readonly regex: SafeRegex } | { readonly type: 'present' };
}

export interface QueryMatch {
  readonly name: string;
  readonly match: { readonly type: 'exact'; readonly value: string } | { readonly type: 'regex'; readonly regex: SafeRegex };
}

export interface RouteRule {
  readonly name: string;
  readonly path: PathMatch;
  readonly headers: readonly HeaderMatch[];
  readonly query: readonly QueryMatch[];
  readonly clusters: readonly WeightedCluster[];
  /** Overall request timeout in ms (0 = none). */
  readonly timeoutMs: number;
  readonly retry?: RetryConfig;
  readonly hash?: HashConfig;
  readonly fault?: FaultConfig;
  /** Shared by every route of a virtual host when it came from the host (one bucket per destination). */
  readonly rateLimit?: RateLimitConfig;
  readonly requestHeaders?: HeaderMods;
  readonly responseHeaders?: HeaderMods;
  readonly rewrite?: RewriteConfig;
  /** A redirect route answers itself; its `clusters` is empty. */
  readonly redirect?: RedirectConfig;
  readonly mirrors?: readonly MirrorConfig[];
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly healthy: boolean;
  readonly weight: number;
  /** The workload behind the endpoint (for metrics and logs), if the control plane said. */
  readonly workload?: string;
}

/** The HTTP protocol a cluster speaks to its endpoints, in the downstream's terms. */
export type UpstreamHttpProtocol = 'http/1.1' | 'h2';

export interface ClusterConfig {
  readonly name: string;
  readonly lbPolicy: LbPolicy;
  readonly connectTimeoutMs: number;
  /** The destination Service for metrics and logs (`payments.default`), or the inbound app for inbound clusters. */
  readonly service: string;
  readonly endpoints: readonly Endpoint[];
  /** mTLS to the endpoints, when set. */
  readonly tls?: UpstreamTls;
  /** An external host's cluster with TLS origination (never together with `tls`). */
  readonly origination?: OriginationTls;
  readonly limits?: CircuitLimits;
  readonly outlier?: OutlierConfig;
  /** ORIGINAL_DST: every connection goes on to its own original destination (no endpoints). */
  readonly originalDst?: boolean;
  /** The Service's virtual IP and the DNS names the proxy answers with it (transparent mode). */
  readonly virtualIp?: { readonly address: string; readonly names: readonly string[] };
  /** The protocol the endpoints speak (the app's declared appProtocol); unset: the downstream's. */
  readonly upstreamProtocol?: UpstreamHttpProtocol;
}

export const EMPTY_CONFIG: RuntimeConfig = {
  versions: { listeners: '', routes: '', clusters: '', endpoints: '' },
  listeners: new Map(),
  routes: new Map(),
  clusters: new Map(),
};
