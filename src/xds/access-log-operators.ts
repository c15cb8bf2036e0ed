// The access log fields as Envoy command operators, the values of an access logger's
// log_format.json_format: the translator writes a MeshConfig's chosen fields this way and a
// proxy reads them back. Where Envoy has an operator for a field, it is Envoy's; fields
// Envoy has no operator for (the mesh's own) are %TRELLIS(field)%.
import { ACCESS_LOG_FIELDS, type AccessLogField } from '../api/access-log-fields.js';

const ENVOY: Partial<Record<AccessLogField, string>> = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  authority: '%REQ(:AUTHORITY)%',
  path: '%REQ(:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  grpc_status: '%GRPC_STATUS_NUMBER%',
  response_flags: '%RESPONSE_FLAGS%',
  duration_ms: '%DURATION%',
  upstream_ttfb_ms: '%RESPONSE_DURATION%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  route_name: '%ROUTE_NAME%',
  client_address: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  trace_id: '%TRACE_ID%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
};

/** The command operator that stands for `field` in a json_format. */
export function accessLogOperator(field: AccessLogField): string {
  return ENVOY[field] ?? `%TRELLIS(${field})%`;
}

const BY_OPERATOR: ReadonlyMap<string, AccessLogField> = new Map(ACCESS_LOG_FIELDS.map((f) => [accessLogOperator(f), f]));

/** The field a command operator stands for; undefined for an operator Trellis proxy does not fill. */
export function accessLogFieldOf(operator: string): AccessLogField | undefined {
  return BY_OPERATOR.get(operator);
}
