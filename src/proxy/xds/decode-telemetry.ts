// Decodes the HTTP connection manager's `tracing` (random sampling percent; the OTLP exporter:
// Envoy's OpenTelemetryConfig with http_service (protobuf, as Envoy sends it) or grpc_service
// (google_grpc target), or Trellis's JSON tracer in a TypedStruct; whether its cluster is the
// control plane's) and `accessLog` (stdout or file, with an optional runtime filter's sampling
// percentage, status code / duration filters and a json_format of fields) into the listener's
// telemetry settings. Anything Trellis cannot honour (another tracer, an envoy_grpc exporter,
// an unknown logger or filter) is a problem.
import type { AccessLogField } from '../../api/access-log-fields.js';
import type { OtlpProtocol } from '../../api/telemetry.js';
import { structToJson } from '../../xds/node-metadata.js';
import type { AccessLogCondition, ListenerTelemetry } from '../config/runtime-config.js';
import { accessLogFieldOf } from '../../xds/access-log-operators.js';
import { CONTROL_PLANE_CLUSTER, OPENTELEMETRY_TRACER, OTLP_HTTP_JSON_TRACER, STDOUT_ACCESS_LOG, TYPED_STRUCT, typeUrl } from '../../xds/type-urls.js';
import { XDS_PROBLEM, show } from './errors.js';
import { at, checkType, idx, isObj, isStruct, readList, readObj, type Obj, type ProblemSink } from './decode-fields.js';

const FILE_ACCESS_LOG = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';
const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

export function decodeHcmTelemetry(s: ProblemSink, hcm: Obj, path: string): ListenerTelemetry | undefined {
  const out: TracingSettings & Partial<AccessLogSettings> = {};
  const tracing = readObj(s, hcm, 'tracing', path, false);
  if (tracing !== undefined) decodeTracing(s, tracing, at(path, 'tracing'), out);
  const logs = readList(s, hcm, 'accessLog', path);
  if (logs.length > 1) s.add(at(path, 'accessLog'), XDS_PROBLEM.UNSUPPORTED, `at most one access log is supported by Trellis proxy, got ${logs.length}`);
  else if (logs.length === 1) {
    const a = decodeAccessLog(s, logs[0], idx(at(path, 'accessLog'), 0));
    if (a !== undefined) Object.assign(out, a);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function readPercent(s: ProblemSink, v: unknown, path: string): number | undefined {
  if (v === undefined) return 100; // Envoy's default random sampling is 100 %
  const value = isObj(v) ? (v.value ?? 0) : v;
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) return s.add(path, XDS_PROBLEM.INVALID, `must be a Percent from 0 to 100, got ${show(v)}`);
  return value;
}

interface TracingSettings {
  tracingPercent?: number;
  collector?: string;
  /** Absent: http/protobuf (Envoy's http_service). */
  collectorProtocol?: OtlpProtocol;
  collectorIsControlPlane?: boolean;
}

function decodeTracing(s: ProblemSink, t: Obj, path: string, out: TracingSettings): void {
  const percent = readPercent(s, t.randomSampling, at(path, 'randomSampling'));
  const provider = readObj(s, t, 'provider', path, false);
  if (provider === undefined) return; // no provider: Envoy does not trace either
  const cfg = readObj(s, provider, 'typedConfig', at(path, 'provider'));
  if (cfg === undefined) return;
  const cpath = at(at(path, 'provider'), 'typedConfig');
  const type = checkType(s, cfg, cpath, [typeUrl(OPENTELEMETRY_TRACER), typeUrl(TYPED_STRUCT)]);
  if (type === undefined) return;
  const exporter = type === typeUrl(TYPED_STRUCT) ? decodeJsonTracer(s, cfg, cpath) : decodeOpenTelemetry(s, cfg, cpath);
  if (exporter === undefined || percent === undefined) return;
  out.tracingPercent = percent;
  out.collector = exporter.collector;
  if (exporter.protocol !== 'http/protobuf') out.collectorProtocol = exporter.protocol;
  if (exporter.cluster === CONTROL_PLANE_CLUSTER) out.collectorIsControlPlane = true;
}

interface Exporter {
  collector: string;
  protocol: OtlpProtocol;
  cluster: unknown;
}

/** OpenTelemetryConfig: http_service is OTLP/HTTP protobuf (all Envoy sends); grpc_service with google_grpc is OTLP/gRPC. */
function decodeOpenTelemetry(s: ProblemSink, cfg: Obj, cpath: string): Exporter | undefined {
  if (cfg.grpcService !== undefined) return decodeGrpcService(s, cfg.grpcService, at(cpath, 'grpcService'));
  return decodeHttpService(s, cfg.httpService, at(cpath, 'httpService'), 'http/protobuf');
}

function decodeHttpService(s: ProblemSink, service: unknown, path: string, protocol: OtlpProtocol): Exporter | undefined {
  const uri = isObj(service) && isObj(service.httpUri) ? service.httpUri.uri : undefined;
  if (typeof uri !== 'string' || !/^https?:\/\/[^/]+(\/.*)?\/v1\/traces$/.test(uri)) {
    return s.add(at(path, 'httpUri.uri'), XDS_PROBLEM.INVALID, `must be an http(s) URL ending in /v1/traces, got ${show(uri)}`);
  }
  return { collector: uri.slice(0, -'/v1/traces'.length), protocol, cluster: isObj(service) && isObj(service.httpUri) ? service.httpUri.cluster : undefined };
}

/** google_grpc's target `host:port`, over TLS when channel_credentials has ssl_credentials; envoy_grpc (a cluster) is not supported. */
function decodeGrpcService(s: ProblemSink, g: unknown, path: string): Exporter | undefined {
  if (isObj(g) && g.envoyGrpc !== undefined)
    return s.add(at(path, 'envoyGrpc'), XDS_PROBLEM.UNSUPPORTED, 'OTLP over gRPC is not supported by Trellis proxy through envoyGrpc (a cluster); use googleGrpc.targetUri');
  const google = isObj(g) && isObj(g.googleGrpc) ? g.googleGrpc : undefined;
  const target = google?.targetUri;
  if (typeof target !== 'string' || !/^[^/\s]+:\d+$/.test(target)) return s.add(at(path, 'googleGrpc.targetUri'), XDS_PROBLEM.INVALID, `must be host:port, got ${show(target)}`);
  const creds = google!.channelCredentials;
  if (creds !== undefined && !(isObj(creds) && Object.keys(creds).length === 1 && creds.sslCredentials !== undefined))
    return s.add(
      at(path, 'googleGrpc.channelCredentials'),
      XDS_PROBLEM.UNSUPPORTED,
      `only sslCredentials (TLS with the system and mesh roots) is supported by Trellis proxy, got ${show(creds)}`,
    );
  return { collector: `${creds === undefined ? 'http' : 'https'}://${target}`, protocol: 'grpc', cluster: undefined };
}

/** Trellis's OTLP/HTTP JSON tracer: a TypedStruct of OTLP_HTTP_JSON_TRACER whose value has OpenTelemetryConfig's httpService shape. */
function decodeJsonTracer(s: ProblemSink, cfg: Obj, cpath: string): Exporter | undefined {
  if (cfg.typeUrl !== OTLP_HTTP_JSON_TRACER)
    return s.add(at(cpath, 'typeUrl'), XDS_PROBLEM.UNSUPPORTED, `must be ${OTLP_HTTP_JSON_TRACER} (OTLP/HTTP JSON), got ${show(cfg.typeUrl)}`);
  const value = isStruct(cfg.value) ? structToJson(cfg.value as Parameters<typeof structToJson>[0]) : cfg.value;
  return decodeHttpService(s, isObj(value) ? value.httpService : undefined, at(at(cpath, 'value'), 'httpService'), 'http/json');
}

interface AccessLogSettings {
  accessLogPercent: number;
  accessLogFilter?: AccessLogCondition;
  accessLogFormat?: [string, AccessLogField][];
}

function decodeAccessLog(s: ProblemSink, raw: unknown, path: string): AccessLogSettings | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be an AccessLog object, got ${show(raw)}`);
  const cfg = readObj(s, raw, 'typedConfig', path);
  if (cfg === undefined || checkType(s, cfg, at(path, 'typedConfig'), [typeUrl(STDOUT_ACCESS_LOG), typeUrl(FILE_ACCESS_LOG)]) === undefined) return undefined;
  const format = cfg.logFormat === undefined ? undefined : decodeLogFormat(s, cfg.logFormat, at(at(path, 'typedConfig'), 'logFormat'));
  const filter = readObj(s, raw, 'filter', path, false);
  const parts: FilterParts = { percent: undefined, conditions: [] };
  if (filter !== undefined) decodeFilter(s, filter, at(path, 'filter'), parts, 'top');
  const out: AccessLogSettings = { accessLogPercent: filter === undefined ? 100 : (parts.percent ?? 100) };
  if (parts.conditions.length > 0) out.accessLogFilter = Object.assign({}, ...parts.conditions) as AccessLogCondition;
  if (format !== undefined) out.accessLogFormat = format;
  return out;
}

/** What a filter tree comes to: a sampling percentage and conditions, any one of which logs a request. */
interface FilterParts {
  percent: number | undefined;
  conditions: AccessLogCondition[];
}

/**
 * The filters Trellis proxy honours, as the translator composes them: a runtimeFilter
 * (sampling), statusCodeFilter and durationFilter with op GE, an andFilter of sampling and one
 * condition (or an orFilter of conditions). Anything else is a problem naming the filter.
 */
function decodeFilter(s: ProblemSink, f: Obj, path: string, parts: FilterParts, where: 'top' | 'and' | 'or'): void {
  const kinds = Object.keys(f);
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined) return void s.add(path, XDS_PROBLEM.INVALID, `must set exactly one filter, got ${show(f)}`);
  const inner = f[kind];
  const ipath = at(path, kind);
  if (kind === 'runtimeFilter' && where !== 'or' && parts.percent === undefined && isObj(inner)) {
    const p = decodeSampling(s, inner, ipath);
    if (p !== undefined) parts.percent = p;
    return;
  }
  if ((kind === 'statusCodeFilter' || kind === 'durationFilter') && isObj(inner) && (where === 'or' || parts.conditions.length === 0)) {
    const min = decodeComparison(s, inner.comparison, at(ipath, 'comparison'));
    if (min !== undefined) parts.conditions.push(kind === 'statusCodeFilter' ? { minStatusCode: min } : { minDurationMs: min });
    return;
  }
  const list = isObj(inner) ? readList(s, inner, 'filters', ipath) : [];
  if ((kind === 'andFilter' && where === 'top') || (kind === 'orFilter' && where !== 'or' && parts.conditions.length === 0)) {
    list.forEach((sub, i) =>
      isObj(sub)
        ? decodeFilter(s, sub, idx(at(ipath, 'filters'), i), parts, kind === 'andFilter' ? 'and' : 'or')
        : s.add(idx(at(ipath, 'filters'), i), XDS_PROBLEM.INVALID, `must be an AccessLogFilter, got ${show(sub)}`),
    );
    return;
  }
  s.add(
    ipath,
    XDS_PROBLEM.UNSUPPORTED,
    `Trellis proxy supports runtimeFilter (sampling) and statusCodeFilter/durationFilter (op GE), at most one sampling and either one condition or an orFilter of them, got ${show(f)}`,
  );
}

function decodeSampling(s: ProblemSink, rf: Obj, path: string): number | undefined {
  const ps = rf.percentSampled;
  if (ps === undefined) return 0; // a runtime filter without a default samples nothing
  const num = isObj(ps) ? (ps.numerator ?? 0) : undefined;
  const den = isObj(ps) ? DENOMINATORS[String(ps.denominator ?? 'HUNDRED')] : undefined;
  if (typeof num !== 'number' || den === undefined || num < 0) return s.add(at(path, 'percentSampled'), XDS_PROBLEM.INVALID, `must be a FractionalPercent, got ${show(ps)}`);
  return Math.min(100, (num / den) * 100);
}

/** A ComparisonFilter's threshold; only GE (at least) is supported. */
function decodeComparison(s: ProblemSink, c: unknown, path: string): number | undefined {
  if (!isObj(c)) return s.add(path, XDS_PROBLEM.INVALID, `must be a ComparisonFilter, got ${show(c)}`);
  if ((c.op ?? 'EQ') !== 'GE') return s.add(at(path, 'op'), XDS_PROBLEM.UNSUPPORTED, `only GE is supported by Trellis proxy, got ${show(c.op ?? 'EQ')}`);
  const v = isObj(c.value) ? (c.value.defaultValue ?? 0) : undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    return s.add(at(path, 'value'), XDS_PROBLEM.INVALID, `must be a RuntimeUInt32 with a defaultValue, got ${show(c.value)}`);
  return v;
}

/** A json_format's keys and the field each names (a Struct as decoded, or plain JSON); only json_format is supported. */
function decodeLogFormat(s: ProblemSink, raw: unknown, path: string): [string, AccessLogField][] | undefined {
  if (!isObj(raw) || !isObj(raw.jsonFormat) || Object.keys(raw).some((k) => k !== 'jsonFormat'))
    return s.add(path, XDS_PROBLEM.UNSUPPORTED, `only jsonFormat is supported by Trellis proxy, got ${show(raw)}`);
  const json = raw.jsonFormat;
  const entries = isStruct(json) ? Object.entries(json.fields as Obj).map(([k, v]) => [k, (v as Obj).stringValue] as const) : Object.entries(json);
  const out: [string, AccessLogField][] = [];
  for (const [key, op] of entries) {
    const field = typeof op === 'string' ? accessLogFieldOf(op) : undefined;
    if (field === undefined)
      s.add(at(at(path, 'jsonFormat'), key), XDS_PROBLEM.UNSUPPORTED, `must be a command operator Trellis proxy fills (e.g. %RESPONSE_CODE%, %TRELLIS(span_id)%), got ${show(op)}`);
    else out.push([key, field]);
  }
  if (out.length === 0 && entries.length === 0) return s.add(at(path, 'jsonFormat'), XDS_PROBLEM.INVALID, 'must name at least one field');
  return out;
}
