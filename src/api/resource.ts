// The user-facing resources (Kubernetes-style YAML: apiVersion, kind, metadata, spec).
// Typed results of parsing; see parse.ts for how raw documents become these.

import type { AccessLogField } from './access-log-fields.js';
import type { TrafficPolicy } from './traffic-policy-types.js';
import type { HTTPRouteFilter } from './http-route-filter.js';
import type { GRPCRoute } from './grpc-route.js';
import type { TCPRoute } from './tcp-route.js';
import type { OtlpProtocol } from './telemetry.js';
import type { RouteParentRef } from './route-parent-ref.js';
import type { Gateway } from './gateway.js';
import type { GatewayClass } from './gateway-class.js';
import type { Secret } from './secret.js';
export type { Gateway, GatewayListener, ListenerProtocol, ListenerTLS, CertificateRef, AllowedRoutes } from './gateway.js';
export type { GatewayClass } from './gateway-class.js';
export type { Secret } from './secret.js';
export type { RouteParentRef, ServiceParentRef, GatewayParentRef } from './route-parent-ref.js';
export type { GRPCRoute, GRPCRouteRule, GRPCRouteMatch, GRPCMethodMatch } from './grpc-route.js';
export type { TCPRoute } from './tcp-route.js';
export type { HTTPRouteFilter, HTTPHeaderModifier, HTTPPathModifier } from './http-route-filter.js';
export type * from './traffic-policy-types.js';

export const TRELLIS_API_VERSION = 'trellis.dev/v1alpha1';
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';

export interface ObjectMeta {
  name: string;
  /** Every namespaced resource has one (default `default`); MeshConfig has none. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the store: the store revision of the last change to this resource (a decimal string). */
  resourceVersion?: string;
  /** Set by the store on create (RFC 3339). */
  creationTimestamp?: string;
}

// ---- Service (core v1 shape, as in Kubernetes) ----
/** Application protocol of a port: `appProtocol` as in Kubernetes. */
export type AppProtocol = 'http' | 'http2' | 'grpc' | 'tcp';
export interface ServicePort {
  name?: string;
  port: number;
  /** The application's port on each workload (default: `port`). */
  targetPort: number;
  /** Only TCP is supported. */
  protocol: 'TCP';
  appProtocol: AppProtocol;
}
export interface ServiceSpec {
  /** Workloads whose labels include all of these belong to the Service. */
  selector: Record<string, string>;
  ports: ServicePort[];
}
export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta & { namespace: string };
  spec: ServiceSpec;
}

// ---- HTTPRoute (Gateway API: parentRefs name Services, GAMMA, or Gateways) ----
/** A Service parent (TCPRoute's only kind; HTTPRoute and GRPCRoute also take Gateways: RouteParentRef). */
export interface ParentRef {
  group: string;
  kind: 'Service';
  name: string;
  namespace?: string;
  port?: number;
}
export interface HTTPPathMatch {
  type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value: string;
}
export interface HTTPHeaderMatch {
  type: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}
export interface HTTPQueryParamMatch {
  type: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}
export interface HTTPRouteMatch {
  path?: HTTPPathMatch;
  headers?: HTTPHeaderMatch[];
  queryParams?: HTTPQueryParamMatch[];
  method?: string;
}
export interface BackendRef {
  group: string;
  kind: 'Service';
  name: string;
  namespace?: string;
  port: number;
  weight: number;
}
export interface HTTPRouteRule {
  name?: string;
  /** Empty means one match: PathPrefix `/`. */
  matches: HTTPRouteMatch[];
  backendRefs: BackendRef[];
  /** Gateway API durations: `request` for the whole request, `backendRequest` per attempt. */
  timeouts?: { request?: string; backendRequest?: string };
  /** Header modifiers, mirroring, URL rewrite, redirect (see http-route-filter.ts). */
  filters?: HTTPRouteFilter[];
  /** GEP-1731: retry these statuses (and connection errors) up to `attempts` times. */
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
}
export interface HTTPRouteSpec {
  parentRefs: RouteParentRef[];
  hostnames?: string[];
  rules: HTTPRouteRule[];
}
export interface HTTPRoute {
  apiVersion: typeof GATEWAY_API_VERSION;
  kind: 'HTTPRoute';
  metadata: ObjectMeta & { namespace: string };
  spec: HTTPRouteSpec;
}

// ---- MeshConfig (one per mesh, named `default`) ----
export type LoadBalancerPolicy = 'RoundRobin' | 'LeastRequest';
export interface MeshConfigSpec {
  /** Default load-balancing policy of every Service (default RoundRobin). */
  loadBalancer: LoadBalancerPolicy;
  /** How long a workload stays registered after its proxy's xDS stream is gone (default 30 s). */
  workloadGracePeriodSeconds: number;
  /** Timeout to open a connection to an endpoint (default 5000 ms). */
  connectTimeoutMs: number;
  /** Mutual TLS between proxies: STRICT (default) refuses plaintext on inbound listeners; PERMISSIVE also accepts it. */
  mtls: { mode: 'STRICT' | 'PERMISSIVE' };
  /** What a request gets when no ALLOW policy applies to its Service: ALLOW (default) or DENY (mesh-wide default deny). */
  authorization: { defaultAction: 'ALLOW' | 'DENY' };
  /** IPv4 range (CIDR) the control plane allocates Service virtual IPs from (default 240.240.0.0/16). */
  virtualIpRange: string;
  /** Transparent mode: what a proxy does with a connection to a destination that is not a mesh Service (default PassThrough). */
  outboundPolicy: OutboundPolicy;
  /** Transparent mode: how long a proxy waits for a client's first bytes to detect its protocol (default 500 ms). */
  protocolDetectionTimeoutMs: number;
  /** Distributed tracing of every proxy (see docs/observability.md); absent: 1 % to the control plane. */
  tracing?: TracingSpec;
  /** Access logs of every proxy; absent: off. */
  accessLog?: AccessLogSpec;
  /** How proxies normalize request paths before authorization and routing; absent: MERGE_SLASHES, escaped slashes kept. */
  pathNormalization?: PathNormalizationSpec;
}
/** Istio's MeshConfig.pathNormalization modes (see docs/configuration.md). */
export type PathNormalizationMode = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
/** What `%2F` and `%5C` in a path get: Envoy's path_with_escaped_slashes_action. */
export type EscapedSlashesPolicy = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';
export interface PathNormalizationSpec {
  normalization: PathNormalizationMode;
  /** Absent: UNESCAPE_AND_FORWARD under DECODE_AND_MERGE_SLASHES, else KEEP_UNCHANGED. */
  escapedSlashes?: EscapedSlashesPolicy;
}
export interface TracingSpec {
  /** Percent (0-100) of new traces the proxies sample; a caller's decision is always followed. */
  samplingPercent: number;
  /** OTLP/HTTP base URL of a collector (spans go to {collector}/v1/traces), or its gRPC endpoint; absent: the control plane's own receiver. */
  collector?: string;
  /** How spans travel; absent: http/protobuf to a collector, http/json to the control plane's receiver. */
  protocol?: OtlpProtocol;
}
export interface AccessLogSpec {
  enabled: boolean;
  /** Percent (0-100) of requests logged. */
  samplingPercent: number;
  /** The JSON fields each line carries, in this order; absent: the default line (docs/observability.md). */
  fields?: AccessLogField[];
  /** Only requests that match are logged; absent: every sampled request. */
  filter?: AccessLogFilterSpec;
}
/** Conditions of an access log filter: a request is logged when it meets any one given. */
export interface AccessLogFilterSpec {
  /** Logged when the response status is at least this (e.g. 500: server errors, 400: every error). */
  minStatusCode?: number;
  /** Logged when the request took at least this long, in milliseconds. */
  minDurationMs?: number;
}
export type OutboundPolicy = 'PassThrough' | 'Refuse';
export interface MeshConfig {
  apiVersion: typeof TRELLIS_API_VERSION;
  kind: 'MeshConfig';
  metadata: ObjectMeta;
  spec: MeshConfigSpec;
}

export type {
  AuthorizationPolicy,
  AuthorizationPolicySpec,
  AuthorizationRule,
  AuthorizationSource,
  AuthorizationOperation,
  AuthorizationCondition,
} from './authorization-types.js';
import type { AuthorizationPolicy } from './authorization-types.js';
export type { RequestAuthentication, RequestAuthenticationSpec, JwtRule, JwtHeaderLocation } from './request-authentication-types.js';
import type { RequestAuthentication } from './request-authentication-types.js';

export type { ExternalService, ExternalServiceSpec, ExternalPort, ExternalEndpoint, ExternalTls, ExternalProtocol } from './external-service.js';
import type { ExternalService } from './external-service.js';

export type Resource =
  Service | HTTPRoute | MeshConfig | AuthorizationPolicy | TrafficPolicy | GRPCRoute | TCPRoute | RequestAuthentication | ExternalService | GatewayClass | Gateway | Secret;
export type ResourceKind = Resource['kind'];
export const RESOURCE_KINDS: readonly ResourceKind[] = [
  'Service',
  'HTTPRoute',
  'MeshConfig',
  'AuthorizationPolicy',
  'TrafficPolicy',
  'GRPCRoute',
  'TCPRoute',
  'RequestAuthentication',
  'ExternalService',
  'GatewayClass',
  'Gateway',
  'Secret',
];
/** Kinds without a namespace. */
export const CLUSTER_SCOPED_KINDS: readonly ResourceKind[] = ['MeshConfig', 'GatewayClass'];

export const DEFAULT_MESH_CONFIG: MeshConfigSpec = {
  loadBalancer: 'RoundRobin',
  workloadGracePeriodSeconds: 30,
  connectTimeoutMs: 5000,
  virtualIpRange: '240.240.0.0/16',
  outboundPolicy: 'PassThrough',
  protocolDetectionTimeoutMs: 500,
  mtls: { mode: 'STRICT' },
  authorization: { defaultAction: 'ALLOW' },
};

/** The identity of a resource in the store and the REST API. */
export interface ResourceKey {
  kind: ResourceKind;
  namespace?: string;
  name: string;
}
export const resourceKey = (r: Resource): ResourceKey => ({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name });
export const formatKey = (k: ResourceKey): string => (k.namespace ? `${k.kind} ${k.namespace}/${k.name}` : `${k.kind} ${k.name}`);
