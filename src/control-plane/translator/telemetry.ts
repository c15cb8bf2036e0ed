// The HTTP connection manager's telemetry fields from the MeshConfig: `tracing` (random
// sampling percent and an OpenTelemetry provider exporting OTLP over HTTP) and `accessLog`
// (stdout, with a runtime filter sampling a percentage). Absent when the mesh asks for none.
import type { MeshConfigSpec } from '../../api/resource.js';
import { DEFAULT_TRACING_PERCENT } from '../../api/mesh-config.js';
import { durationFromMs } from './clusters.js';
import {
  ACCESS_LOGGER_STDOUT,
  CONTROL_PLANE_CLUSTER,
  OPENTELEMETRY_TRACER,
  OTLP_COLLECTOR_CLUSTER,
  STDOUT_ACCESS_LOG,
  TRACER_OPENTELEMETRY,
  typeUrl,
} from '../../xds/type-urls.js';

/** The fields spread into every HCM of a snapshot. */
export interface HcmTelemetry {
  tracing?: object;
  accessLog?: object[];
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
      provider: {
        name: TRACER_OPENTELEMETRY,
        typedConfig: {
          '@type': typeUrl(OPENTELEMETRY_TRACER),
          httpService: { httpUri: { uri: `${collector}/v1/traces`, cluster, timeout: durationFromMs(5000) } },
        },
      },
    };
  }
  if (mesh.accessLog?.enabled) {
    out.accessLog = [
      {
        name: ACCESS_LOGGER_STDOUT,
        filter: {
          runtimeFilter: {
            runtimeKey: 'trellis.access_log.sampling',
            percentSampled: { numerator: Math.round(mesh.accessLog.samplingPercent * 100), denominator: 'TEN_THOUSAND' },
          },
        },
        typedConfig: { '@type': typeUrl(STDOUT_ACCESS_LOG) },
      },
    ];
  }
  return out;
}
