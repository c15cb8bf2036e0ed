// The HTTP connection manager's telemetry fields from the MeshConfig: `tracing` (random
// sampling percent and a tracer exporting OTLP by the MeshConfig's protocol: Envoy's
// OpenTelemetryConfig with http_service for http/protobuf or grpc_service for grpc, Trellis's
// own JSON tracer in a TypedStruct for http/json) and `accessLog`
// (stdout, with a runtime filter sampling a percentage, status/duration filters and a json_format
// of the chosen fields). Absent when the mesh asks for none.
import type { AccessLogSpec, MeshConfigSpec } from '../../api/resource.js';
import { DEFAULT_OTLP_PROTOCOL, type OtlpProtocol } from '../../api/telemetry.js';
import { accessLogOperator } from '../../xds/access-log-operators.js';
import { jsonToStruct } from '../../xds/node-metadata.js';
import { DEFAULT_TRACING_PERCENT } from '../../api/mesh-config.js';
import { durationFromMs } from './clusters.js';
import {
  ACCESS_LOGGER_STDOUT,
  CONTROL_PLANE_CLUSTER,
  OPENTELEMETRY_TRACER,
  OTLP_COLLECTOR_CLUSTER,
  OTLP_HTTP_JSON_TRACER,
  STDOUT_ACCESS_LOG,
  TRACER_OPENTELEMETRY,
  TYPED_STRUCT,
  typeUrl,
} from '../../xds/type-urls.js';

/** The fields spread into every HCM of a snapshot. */
export interface HcmTelemetry {
  tracing?: object;
  accessLog?: object[];
}

/**
 * An external collector gets OpenTelemetry's default, protobuf. The control plane's own receiver
 * gets JSON unless the MeshConfig says otherwise: the proxy's JSON encoder is written by hand and
 * needs no protobuf serializer (6-7 MB of a sidecar's memory), and JSON is also the cheaper
 * encoding for the control plane to decode (docs/benchmarks.md, OTLP encodings).
 */
function defaultProtocol(mesh: MeshConfigSpec): OtlpProtocol {
  return mesh.tracing?.collector !== undefined ? DEFAULT_OTLP_PROTOCOL : 'http/json';
}

/**
 * `defaultCollector`: the control plane's own OTLP receiver, used when the MeshConfig names no
 * collector; its HttpUri names CONTROL_PLANE_CLUSTER, so a proxy that reaches the control plane
 * over a Unix socket sends spans over one too. Without either (or with sampling at 0 and no collector), no tracing is configured.
 */
export function hcmTelemetry(mesh: MeshConfigSpec, defaultCollector: string | undefined): HcmTelemetry {
  const out: HcmTelemetry = {};
  const collector = mesh.tracing?.collector ?? defaultCollector;
  const cluster = mesh.tracing?.collector !== undefined ? OTLP_COLLECTOR_CLUSTER : CONTROL_PLANE_CLUSTER;
  if (collector !== undefined) {
    out.tracing = {
      randomSampling: { value: mesh.tracing?.samplingPercent ?? DEFAULT_TRACING_PERCENT },
      provider: { name: TRACER_OPENTELEMETRY, typedConfig: otlpExporter(collector, cluster, mesh.tracing?.protocol ?? defaultProtocol(mesh)) },
    };
  }
  const log = mesh.accessLog;
  if (log?.enabled) {
    out.accessLog = [
      {
        name: ACCESS_LOGGER_STDOUT,
        filter: accessLogFilter(log),
        typedConfig: {
          '@type': typeUrl(STDOUT_ACCESS_LOG),
          // json_format is a google.protobuf.Struct, written here in its message form.
          ...(log.fields !== undefined ? { logFormat: { jsonFormat: { fields: Object.fromEntries(log.fields.map((f) => [f, { stringValue: accessLogOperator(f) }])) } } } : {}),
        },
      },
    ];
  }
  return out;
}

/** The tracer's typed_config: how spans travel to `collector` (a base URL; for grpc, the endpoint). */
function otlpExporter(collector: string, cluster: string, protocol: OtlpProtocol): object {
  const uri = `${collector}/v1/traces`;
  if (protocol === 'http/protobuf') return { '@type': typeUrl(OPENTELEMETRY_TRACER), httpService: { httpUri: { uri, cluster, timeout: durationFromMs(5000) } } };
  if (protocol === 'http/json') return { '@type': typeUrl(TYPED_STRUCT), typeUrl: OTLP_HTTP_JSON_TRACER, value: jsonToStruct({ httpService: { httpUri: { uri, cluster } } }) };
  const url = new URL(collector);
  return {
    '@type': typeUrl(OPENTELEMETRY_TRACER),
    // google_grpc names the endpoint itself (envoy_grpc would need a cluster for it); TLS when the collector is https.
    grpcService: {
      googleGrpc: { targetUri: url.host, statPrefix: 'otlp_traces', ...(url.protocol === 'https:' ? { channelCredentials: { sslCredentials: {} } } : {}) },
      timeout: durationFromMs(5000),
    },
  };
}

/** Sampling (a runtime filter), and with a MeshConfig filter: sampled and (status >= N or duration >= N ms), as Envoy composes filters. */
function accessLogFilter(log: AccessLogSpec): object {
  const sampling = {
    runtimeFilter: {
      runtimeKey: 'trellis.access_log.sampling',
      percentSampled: { numerator: Math.round(log.samplingPercent * 100), denominator: 'TEN_THOUSAND' },
    },
  };
  const conditions: object[] = [];
  const ge = (key: string, value: number) => ({ op: 'GE', value: { defaultValue: value, runtimeKey: `trellis.access_log.${key}` } });
  if (log.filter?.minStatusCode !== undefined) conditions.push({ statusCodeFilter: { comparison: ge('min_status_code', log.filter.minStatusCode) } });
  if (log.filter?.minDurationMs !== undefined) conditions.push({ durationFilter: { comparison: ge('min_duration_ms', log.filter.minDurationMs) } });
  if (conditions.length === 0) return sampling;
  return { andFilter: { filters: [sampling, conditions.length === 1 ? conditions[0] : { orFilter: { filters: conditions } }] } };
}
