// The fields an access log line can carry, by the names the JSON line uses. MeshConfig's
// accessLog.fields chooses among them; every proxy knows how to fill each one.

/** Every access log field, in the order a full line lists them. */
export const ACCESS_LOG_FIELDS = [
  'start_time',
  'direction',
  'method',
  'authority',
  'path',
  'protocol',
  'response_code',
  'grpc_status',
  'response_flags',
  'duration_ms',
  'upstream_ttfb_ms',
  'bytes_received',
  'bytes_sent',
  'upstream_host',
  'upstream_cluster',
  'route_name',
  'client_address',
  'x_forwarded_for',
  'source_service',
  'source_workload',
  'source_authenticated',
  'destination_service',
  'trace_id',
  'span_id',
  'user_agent',
  'request_id',
] as const;

export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

const KNOWN: ReadonlySet<string> = new Set(ACCESS_LOG_FIELDS);

/** True when `name` is an access log field. */
export function isAccessLogField(name: string): name is AccessLogField {
  return KNOWN.has(name);
}
