// Decodes the HTTP connection manager's `tracing` (random sampling percent, an OpenTelemetry
// provider with an OTLP/HTTP URI, and whether its cluster is the control plane's) and `accessLog` (stdout or file, with an optional runtime
// filter's sampling percentage) into the listener's telemetry settings. Anything Trellis
// cannot honour (another tracer, a gRPC exporter, an unknown logger or filter) is a problem.
import type { ListenerTelemetry } from '../config/runtime-config.js';
import { CONTROL_PLANE_CLUSTER, OPENTELEMETRY_TRACER, STDOUT_ACCESS_LOG, typeUrl } from '../../xds/type-urls.js';
import { XDS_PROBLEM, show } from './errors.js';
import { at, checkType, idx, isObj, readList, readObj, type Obj, type ProblemSink } from './decode-fields.js';

const FILE_ACCESS_LOG = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';
const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

export function decodeHcmTelemetry(s: ProblemSink, hcm: Obj, path: string): ListenerTelemetry | undefined {
  const out: { tracingPercent?: number; collector?: string; collectorIsControlPlane?: boolean; accessLogPercent?: number } = {};
  const tracing = readObj(s, hcm, 'tracing', path, false);
  if (tracing !== undefined) decodeTracing(s, tracing, at(path, 'tracing'), out);
  const logs = readList(s, hcm, 'accessLog', path);
  if (logs.length > 1) s.add(at(path, 'accessLog'), XDS_PROBLEM.UNSUPPORTED, `at most one access log is supported by Trellis proxy, got ${logs.length}`);
  else if (logs.length === 1) {
    const p = decodeAccessLog(s, logs[0], idx(at(path, 'accessLog'), 0));
    if (p !== undefined) out.accessLogPercent = p;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function readPercent(s: ProblemSink, v: unknown, path: string): number | undefined {
  if (v === undefined) return 100; // Envoy's default random sampling is 100 %
  const value = isObj(v) ? (v.value ?? 0) : v;
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) return s.add(path, XDS_PROBLEM.INVALID, `must be a Percent from 0 to 100, got ${show(v)}`);
  return value;
}

function decodeTracing(s: ProblemSink, t: Obj, path: string, out: { tracingPercent?: number; collector?: string; collectorIsControlPlane?: boolean }): void {
  const percent = readPercent(s, t.randomSampling, at(path, 'randomSampling'));
  const provider = readObj(s, t, 'provider', path, false);
  if (provider === undefined) return; // no provider: Envoy does not trace either
  const cfg = readObj(s, provider, 'typedConfig', at(path, 'provider'));
  if (cfg === undefined) return;
  const cpath = at(at(path, 'provider'), 'typedConfig');
  if (checkType(s, cfg, cpath, [typeUrl(OPENTELEMETRY_TRACER)]) === undefined) return;
  if (cfg.grpcService !== undefined) return void s.add(at(cpath, 'grpcService'), XDS_PROBLEM.UNSUPPORTED, 'OTLP over gRPC is not supported by Trellis proxy; use httpService');
  const uri = isObj(cfg.httpService) && isObj(cfg.httpService.httpUri) ? cfg.httpService.httpUri.uri : undefined;
  if (typeof uri !== 'string' || !/^https?:\/\/[^/]+(\/.*)?\/v1\/traces$/.test(uri)) {
    return void s.add(at(cpath, 'httpService.httpUri.uri'), XDS_PROBLEM.INVALID, `must be an http(s) URL ending in /v1/traces, got ${show(uri)}`);
  }
  if (percent === undefined) return;
  out.tracingPercent = percent;
  out.collector = uri.slice(0, -'/v1/traces'.length);
  if (isObj(cfg.httpService) && isObj(cfg.httpService.httpUri) && cfg.httpService.httpUri.cluster === CONTROL_PLANE_CLUSTER) out.collectorIsControlPlane = true;
}

function decodeAccessLog(s: ProblemSink, raw: unknown, path: string): number | undefined {
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be an AccessLog object, got ${show(raw)}`);
  const cfg = readObj(s, raw, 'typedConfig', path);
  if (cfg === undefined || checkType(s, cfg, at(path, 'typedConfig'), [typeUrl(STDOUT_ACCESS_LOG), typeUrl(FILE_ACCESS_LOG)]) === undefined) return undefined;
  const filter = readObj(s, raw, 'filter', path, false);
  if (filter === undefined) return 100;
  const rf = filter.runtimeFilter;
  if (!isObj(rf) || Object.keys(filter).length !== 1)
    return s.add(at(path, 'filter'), XDS_PROBLEM.UNSUPPORTED, `only runtimeFilter (sampling) is supported by Trellis proxy, got ${show(filter)}`);
  const ps = rf.percentSampled;
  if (ps === undefined) return 0; // a runtime filter without a default samples nothing
  const num = isObj(ps) ? (ps.numerator ?? 0) : undefined;
  const den = isObj(ps) ? DENOMINATORS[String(ps.denominator ?? 'HUNDRED')] : undefined;
  if (typeof num !== 'number' || den === undefined || num < 0)
    return s.add(at(path, 'filter.runtimeFilter.percentSampled'), XDS_PROBLEM.INVALID, `must be a FractionalPercent, got ${show(ps)}`);
  return Math.min(100, (num / den) * 100);
}
