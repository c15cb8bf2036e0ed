// Type URLs and message names of the xDS resources Trellis serves (Envoy v3 API).

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

export const LISTENER = 'envoy.config.listener.v3.Listener';
export const ROUTE_CONFIGURATION = 'envoy.config.route.v3.RouteConfiguration';
export const CLUSTER = 'envoy.config.cluster.v3.Cluster';
export const CLUSTER_LOAD_ASSIGNMENT = 'envoy.config.endpoint.v3.ClusterLoadAssignment';
/** A cluster's upstream HTTP protocol: in typedExtensionProtocolOptions, under this same name. */
export const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const HTTP_CONNECTION_MANAGER = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const TCP_PROXY = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
export const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
export const ORIGINAL_DST_FILTER = 'envoy.extensions.filters.listener.original_dst.v3.OriginalDst';
export const TLS_INSPECTOR = 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
export const HTTP_INSPECTOR = 'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector';
export const DISCOVERY_REQUEST = 'envoy.service.discovery.v3.DiscoveryRequest';
export const DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
export const ADS_METHOD_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** The type URL of a message; literal for the constants below, so records keyed by them are exhaustive. */
export const typeUrl = <N extends string>(messageName: N): `${typeof TYPE_URL_PREFIX}${N}` => `${TYPE_URL_PREFIX}${messageName}`;

export const LISTENER_TYPE = typeUrl(LISTENER);
export const ROUTE_TYPE = typeUrl(ROUTE_CONFIGURATION);
export const CLUSTER_TYPE = typeUrl(CLUSTER);
export const ENDPOINT_TYPE = typeUrl(CLUSTER_LOAD_ASSIGNMENT);

/** The order in which Envoy expects resource types to be sent (clusters before their endpoints, listeners before routes). */
export const RESOURCE_TYPES_IN_ORDER = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE] as const;
export type ResourceTypeUrl = (typeof RESOURCE_TYPES_IN_ORDER)[number];

export const FILTER_HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';
export const FILTER_TCP_PROXY = 'envoy.filters.network.tcp_proxy';
export const FILTER_ROUTER = 'envoy.filters.http.router';

export const SECRET = 'envoy.extensions.transport_sockets.tls.v3.Secret';
export const SECRET_TYPE = typeUrl(SECRET);
export const UPSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const DOWNSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const TRANSPORT_SOCKET_TLS = 'envoy.transport_sockets.tls';
/** Every type the xDS server serves, in the order it sends them: secrets before what uses them. */
export const SERVED_TYPES_IN_ORDER = [SECRET_TYPE, ...RESOURCE_TYPES_IN_ORDER] as const;
export type ServedTypeUrl = (typeof SERVED_TYPES_IN_ORDER)[number];
export const HTTP_RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
export const NETWORK_RBAC = 'envoy.extensions.filters.network.rbac.v3.RBAC';
export const FILTER_HTTP_RBAC = 'envoy.filters.http.rbac';
export const FILTER_NETWORK_RBAC = 'envoy.filters.network.rbac';
export const JWT_AUTHN = 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export const FILTER_JWT_AUTHN = 'envoy.filters.http.jwt_authn';
/** Where every JWT provider puts a verified token's payload (payload_in_metadata): RBAC's metadata matchers read it there. */
export const JWT_PAYLOAD_METADATA_KEY = 'payload';
export const HTTP_FAULT = 'envoy.extensions.filters.http.fault.v3.HTTPFault';
export const LOCAL_RATE_LIMIT = 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
export const FILTER_FAULT = 'envoy.filters.http.fault';
export const FILTER_LOCAL_RATE_LIMIT = 'envoy.filters.http.local_ratelimit';
export const LISTENER_FILTER_ORIGINAL_DST = 'envoy.filters.listener.original_dst';
export const LISTENER_FILTER_TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
export const LISTENER_FILTER_HTTP_INSPECTOR = 'envoy.filters.listener.http_inspector';

export const OPENTELEMETRY_TRACER = 'envoy.config.trace.v3.OpenTelemetryConfig';
export const STDOUT_ACCESS_LOG = 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
export const TRACER_OPENTELEMETRY = 'envoy.tracers.opentelemetry';
/** xDS's wrapper for the config of an extension the data plane has no proto for: a type URL and a Struct. */
export const TYPED_STRUCT = 'xds.type.v3.TypedStruct';
/**
 * The TypedStruct type URL of Trellis's OTLP/HTTP JSON exporter: Envoy's OpenTelemetryConfig
 * http_service always sends protobuf, so JSON is a tracer of its own (Envoy refuses it rather
 * than sending protobuf to a JSON collector). Its value: { httpService: { httpUri: { uri, cluster } } }.
 */
export const OTLP_HTTP_JSON_TRACER = 'type.googleapis.com/trellis.config.trace.v1.OtlpHttpJsonConfig';
export const ACCESS_LOGGER_STDOUT = 'envoy.access_loggers.stdout';
/** The cluster name the OTLP HttpUri names (Envoy requires one; the Trellis proxy posts to the URI itself). */
export const OTLP_COLLECTOR_CLUSTER = 'trellis-otlp-collector';
/**
 * The cluster the OTLP HttpUri names when the collector is the control plane's own receiver:
 * the proxy reaches it the way it reaches xDS (over TCP at the URI, or, when its xDS address
 * is `unix:PATH`, over the receiver's socket beside PATH), as Envoy names its bootstrap's xDS cluster.
 */
export const CONTROL_PLANE_CLUSTER = 'trellis-control-plane';
