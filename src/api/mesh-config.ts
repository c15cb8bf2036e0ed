// Parsing the MeshConfig: the one mesh-wide settings resource, named `default`, every field defaulted.
import { z } from 'zod';
import type { Result } from '../common/result.js';
import { ok } from '../common/result.js';
import type { MeshConfig } from './resource.js';
import { DEFAULT_MESH_CONFIG, TRELLIS_API_VERSION } from './resource.js';
import { clusterMetadata, envelope, toObjectMeta } from './metadata.js';
import type { Problem } from './problem.js';
import { describeValue } from './problem.js';
import { checked, closedObject, parseWithSchema } from './schema-kit.js';
import { checkVirtualIpRange } from './virtual-ip-range.js';
import { ACCESS_LOG_FIELDS, isAccessLogField, type AccessLogField } from './access-log-fields.js';
import type { AccessLogSpec } from './resource.js';
import { OTLP_PROTOCOLS } from './telemetry.js';

/** The only name a MeshConfig may have: there is one per mesh. */
export const MESH_CONFIG_NAME = 'default';
/** Limits of the MeshConfig fields. */
export const MAX_WORKLOAD_GRACE_PERIOD_SECONDS = 3600;
export const MAX_CONNECT_TIMEOUT_MS = 60_000;
export const MAX_PROTOCOL_DETECTION_TIMEOUT_MS = 10_000;

/** Path normalization when MeshConfig does not say: dot segments, unreserved escapes, merged slashes; escaped slashes kept. */
export const DEFAULT_PATH_NORMALIZATION = 'MERGE_SLASHES';

/** Default tracing sample rate when MeshConfig does not say. */
export const DEFAULT_TRACING_PERCENT = 1;

const percent = z.number().min(0).max(100);
const collectorUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '';
  } catch {
    return false;
  }
}, 'must be an http:// or https:// base URL without query (spans go to {collector}/v1/traces)');

const accessLogField = checked(z.string(), (v) => (isAccessLogField(v) ? undefined : `must be one of ${ACCESS_LOG_FIELDS.join(', ')}, got ${describeValue(v)}`));

const spec = closedObject({
  tracing: checked(
    closedObject({ samplingPercent: percent.default(DEFAULT_TRACING_PERCENT), collector: collectorUrl.optional(), protocol: z.enum(OTLP_PROTOCOLS).optional() }),
    (t) =>
      t.protocol === 'grpc' && t.collector === undefined
        ? "protocol grpc needs a collector (its gRPC endpoint, e.g. http://otel:4317): the control plane's own receiver takes OTLP over HTTP only"
        : undefined,
  ).optional(),
  accessLog: closedObject({
    enabled: z.boolean().default(false),
    samplingPercent: percent.default(100),
    fields: checked(z.array(accessLogField).min(1), (f) => (new Set(f).size === f.length ? undefined : `must not name a field twice, got ${describeValue(f)}`)).optional(),
    filter: checked(closedObject({ minStatusCode: z.int().min(100).max(599).optional(), minDurationMs: z.int().min(0).optional() }), (f) =>
      f.minStatusCode !== undefined || f.minDurationMs !== undefined ? undefined : 'must set minStatusCode or minDurationMs (or leave filter out)',
    ).optional(),
  }).optional(),
  loadBalancer: z.enum(['RoundRobin', 'LeastRequest']).default(DEFAULT_MESH_CONFIG.loadBalancer),
  workloadGracePeriodSeconds: z.int().min(0).max(MAX_WORKLOAD_GRACE_PERIOD_SECONDS).default(DEFAULT_MESH_CONFIG.workloadGracePeriodSeconds),
  connectTimeoutMs: z.int().min(1).max(MAX_CONNECT_TIMEOUT_MS).default(DEFAULT_MESH_CONFIG.connectTimeoutMs),
  authorization: closedObject({ defaultAction: z.enum(['ALLOW', 'DENY']).default(DEFAULT_MESH_CONFIG.authorization.defaultAction) }).default({
    defaultAction: DEFAULT_MESH_CONFIG.authorization.defaultAction,
  }),
  mtls: closedObject({ mode: z.enum(['STRICT', 'PERMISSIVE']).default(DEFAULT_MESH_CONFIG.mtls.mode) }).default({ mode: DEFAULT_MESH_CONFIG.mtls.mode }),
  virtualIpRange: checked(z.string(), checkVirtualIpRange).default(DEFAULT_MESH_CONFIG.virtualIpRange),
  outboundPolicy: z.enum(['PassThrough', 'Refuse']).default(DEFAULT_MESH_CONFIG.outboundPolicy),
  protocolDetectionTimeoutMs: z.int().min(1).max(MAX_PROTOCOL_DETECTION_TIMEOUT_MS).default(DEFAULT_MESH_CONFIG.protocolDetectionTimeoutMs),
  pathNormalization: closedObject({
    normalization: z.enum(['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']).default(DEFAULT_PATH_NORMALIZATION),
    escapedSlashes: z.enum(['KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD']).optional(),
  }).optional(),
});

const checkName = (name: string): string | undefined =>
  name === MESH_CONFIG_NAME ? undefined : `must be "${MESH_CONFIG_NAME}" (there is one MeshConfig per mesh), got ${describeValue(name)}`;

// A missing or empty spec (`spec:` in YAML is null) means every default.
const meshConfigSchema = envelope(
  'MeshConfig',
  [TRELLIS_API_VERSION],
  clusterMetadata('MeshConfig', checkName),
  z.preprocess((v) => v ?? {}, spec),
);

/** Parses a raw MeshConfig document; every field missing from spec gets its value from DEFAULT_MESH_CONFIG. */
export function parseMeshConfig(raw: unknown): Result<MeshConfig, Problem[]> {
  const r = parseWithSchema(meshConfigSchema, raw);
  if (!r.ok) return r;
  const { metadata, spec: s } = r.value;
  return ok({
    apiVersion: TRELLIS_API_VERSION,
    kind: 'MeshConfig',
    metadata: toObjectMeta(metadata),
    spec: {
      loadBalancer: s.loadBalancer,
      workloadGracePeriodSeconds: s.workloadGracePeriodSeconds,
      connectTimeoutMs: s.connectTimeoutMs,
      mtls: { mode: s.mtls.mode },
      authorization: { defaultAction: s.authorization.defaultAction },
      virtualIpRange: s.virtualIpRange,
      outboundPolicy: s.outboundPolicy,
      protocolDetectionTimeoutMs: s.protocolDetectionTimeoutMs,
      ...(s.tracing !== undefined
        ? {
            tracing: {
              samplingPercent: s.tracing.samplingPercent,
              ...(s.tracing.collector !== undefined ? { collector: s.tracing.collector.replace(/\/+$/, '') } : {}),
              ...(s.tracing.protocol !== undefined ? { protocol: s.tracing.protocol } : {}),
            },
          }
        : {}),
      ...(s.accessLog !== undefined ? { accessLog: accessLogSpec(s.accessLog) } : {}),
      ...(s.pathNormalization !== undefined
        ? {
            pathNormalization: {
              normalization: s.pathNormalization.normalization,
              ...(s.pathNormalization.escapedSlashes !== undefined ? { escapedSlashes: s.pathNormalization.escapedSlashes } : {}),
            },
          }
        : {}),
    },
  });
}

function accessLogSpec(a: {
  enabled: boolean;
  samplingPercent: number;
  fields?: string[] | undefined;
  filter?: { minStatusCode?: number | undefined; minDurationMs?: number | undefined } | undefined;
}): AccessLogSpec {
  const f = a.filter;
  return {
    enabled: a.enabled,
    samplingPercent: a.samplingPercent,
    ...(a.fields !== undefined ? { fields: a.fields as AccessLogField[] } : {}),
    ...(f !== undefined
      ? { filter: { ...(f.minStatusCode !== undefined ? { minStatusCode: f.minStatusCode } : {}), ...(f.minDurationMs !== undefined ? { minDurationMs: f.minDurationMs } : {}) } }
      : {}),
  };
}
