// Decodes the resilience parts of routes and virtual hosts: RetryPolicy, hash policy, and the
// per-filter configs of the fault and local_ratelimit filters (typedPerFilterConfig).
import type { FaultConfig, HashConfig, RateLimitConfig, RetryConditions, RetryConfig } from '../config/resilience-config.js';
import { XDS_PROBLEM, show } from './errors.js';
import type { ProblemSink } from './decode-fields.js';
import { at, checkType, idx, isObj, readDurationMs, readList, readName, readObj, readWeight, type Obj } from './decode-fields.js';
import { decodeStringMatcher } from './decode-route-match.js';
import { SafeRegex } from '../config/safe-regex.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const RATE_LIMIT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';

/** Envoy's defaults: one retry, backoff base 25 ms, max 10 × base. */
const DEFAULT_RETRIES = 1;
const DEFAULT_BACKOFF_MS = 25;

const GRPC_CONDITIONS: Readonly<Record<string, number>> = { cancelled: 1, 'deadline-exceeded': 4, 'resource-exhausted': 8, internal: 13, unavailable: 14 };
const HTTP_CONDITIONS = ['connect-failure', 'reset', '5xx', 'gateway-error', 'retriable-status-codes'];

/** Decodes an Envoy RetryPolicy (of a route or a virtual host). */
export function decodeRetryPolicy(s: ProblemSink, raw: Obj, path: string): RetryConfig | undefined {
  const before = s.problems.length;
  const on = { connectFailure: false, reset: false, fiveXx: false, gatewayError: false, retriableStatus: false };
  const grpcStatuses: number[] = [];
  const retryOn = raw.retryOn ?? '';
  if (typeof retryOn !== 'string') s.add(at(path, 'retryOn'), XDS_PROBLEM.INVALID, `must be a comma-separated string, got ${show(retryOn)}`);
  else {
    for (const c of retryOn.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (c in GRPC_CONDITIONS) grpcStatuses.push(GRPC_CONDITIONS[c]!);
      else if (c === 'connect-failure') on.connectFailure = true;
      else if (c === 'reset') on.reset = true;
      else if (c === '5xx') on.fiveXx = true;
      else if (c === 'gateway-error') on.gatewayError = true;
      else if (c === 'retriable-status-codes') on.retriableStatus = true;
      else s.add(at(path, 'retryOn'), XDS_PROBLEM.UNSUPPORTED, `retry condition ${show(c)} is not supported by Trellis proxy (supported: ${[...HTTP_CONDITIONS, ...Object.keys(GRPC_CONDITIONS)].join(', ')})`);
    }
  }
  const numRetries = raw.numRetries === undefined ? DEFAULT_RETRIES : readWeight(s, raw.numRetries, at(path, 'numRetries'), true);
  const perTryTimeoutMs = readDurationMs(s, raw, 'perTryTimeout', path, 0);
  const statusCodes: number[] = [];
  readList(s, raw, 'retriableStatusCodes', path).forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 100 || c > 599) s.add(idx(at(path, 'retriableStatusCodes'), i), XDS_PROBLEM.INVALID, `must be an HTTP status 100..599, got ${show(c)}`);
    else statusCodes.push(c);
  });
  let backoffBaseMs: number | undefined = DEFAULT_BACKOFF_MS;
  let backoffMaxMs: number | undefined = DEFAULT_BACKOFF_MS * 10;
  const backoff = readObj(s, raw, 'retryBackOff', path, false);
  if (backoff) {
    const bpath = at(path, 'retryBackOff');
    backoffBaseMs = readDurationMs(s, backoff, 'baseInterval', bpath, -1);
    if (backoffBaseMs === -1 || backoffBaseMs === 0) backoffBaseMs = s.add(at(bpath, 'baseInterval'), XDS_PROBLEM.REQUIRED, 'required: a duration above 0');
    backoffMaxMs = backoffBaseMs === undefined ? undefined : readDurationMs(s, backoff, 'maxInterval', bpath, backoffBaseMs * 10);
    if (backoffBaseMs !== undefined && backoffMaxMs !== undefined && backoffMaxMs < backoffBaseMs) s.add(at(bpath, 'maxInterval'), XDS_PROBLEM.INVALID, `must not be below baseInterval (${backoffBaseMs} ms), got ${backoffMaxMs} ms`);
  }
  let methods: SafeRegex | undefined;
  readList(s, raw, 'retriableRequestHeaders', path).forEach((h, i) => {
    const hpath = idx(at(path, 'retriableRequestHeaders'), i);
    if (!isObj(h) || h.name !== ':method' || h.stringMatch === undefined) return void s.add(hpath, XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy supports only a `:method` stringMatch here (which methods are retried)');
    const m = decodeStringMatcher(s, h.stringMatch, at(hpath, 'stringMatch'));
    if (m) methods = m.type === 'exact' ? SafeRegex.literal('exact', m.value, false) : m.regex;
  });
  for (const f of ['retryPriority', 'retryHostPredicate', 'rateLimitedRetryBackOff', 'retriableHeaders', 'retryOptionsPredicates']) {
    if (raw[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
  }
  if (s.problems.length > before || numRetries === undefined || perTryTimeoutMs === undefined || backoffBaseMs === undefined || backoffMaxMs === undefined) return undefined;
  const conditions: RetryConditions = { ...on, grpcStatuses };
  return { numRetries, perTryTimeoutMs, on: conditions, statusCodes, backoffBaseMs, backoffMaxMs, methods };
}

/** The first hash policy of a route (header, cookie or source IP). */
export function decodeHashPolicy(s: ProblemSink, list: unknown[], path: string): HashConfig | undefined {
  const decoded = list.map((h, i): HashConfig | undefined => {
    const p = idx(path, i);
    if (!isObj(h)) return s.add(p, XDS_PROBLEM.INVALID, `must be a HashPolicy object, got ${show(h)}`);
    if (h.terminal === true) s.add(at(p, 'terminal'), XDS_PROBLEM.UNSUPPORTED, 'terminal hash policies are not supported by Trellis proxy');
    if (isObj(h.header)) {
      const name = readName(s, h.header, 'headerName', at(p, 'header'));
      if (h.header.regexRewrite !== undefined) s.add(at(at(p, 'header'), 'regexRewrite'), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
      return name ? { type: 'header', name: name.toLowerCase() } : undefined;
    }
    if (isObj(h.cookie)) {
      const name = readName(s, h.cookie, 'name', at(p, 'cookie'));
      // A ttl asks the proxy to set the cookie when it is missing: not done by Trellis proxy.
      if (h.cookie.ttl !== undefined) s.add(at(at(p, 'cookie'), 'ttl'), XDS_PROBLEM.UNSUPPORTED, 'generated cookies (ttl) are not supported by Trellis proxy');
      return name ? { type: 'cookie', name } : undefined;
    }
    if (isObj(h.connectionProperties) && h.connectionProperties.sourceIp === true) return { type: 'source-ip' };
    return s.add(p, XDS_PROBLEM.UNSUPPORTED, 'only header, cookie and connectionProperties.sourceIp hash policies are supported by Trellis proxy');
  });
  if (list.length > 1) s.add(path, XDS_PROBLEM.UNSUPPORTED, `only one hash policy per route is supported by Trellis proxy, got ${list.length}`);
  return decoded[0];
}

/** Per million from an Envoy FractionalPercent (denominator HUNDRED when omitted). */
function perMillion(s: ProblemSink, raw: unknown, path: string): number | undefined {
  if (raw === undefined) return 1_000_000;
  if (!isObj(raw)) return s.add(path, XDS_PROBLEM.INVALID, `must be a FractionalPercent, got ${show(raw)}`);
  const n = raw.numerator ?? 0;
  const scale = { HUNDRED: 10_000, TEN_THOUSAND: 100, MILLION: 1 }[String(raw.denominator ?? 'HUNDRED')];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return s.add(at(path, 'numerator'), XDS_PROBLEM.INVALID, `must be a non-negative integer, got ${show(n)}`);
  if (scale === undefined) return s.add(at(path, 'denominator'), XDS_PROBLEM.INVALID, `must be HUNDRED, TEN_THOUSAND or MILLION, got ${show(raw.denominator)}`);
  return Math.min(1_000_000, n * scale);
}

function decodeFault(s: ProblemSink, raw: Obj, path: string): FaultConfig | undefined {
  const before = s.problems.length;
  const out: { delay?: FaultConfig['delay']; abort?: FaultConfig['abort']; headers: FaultConfig['headers'] } = { headers: [] };
  const delay = readObj(s, raw, 'delay', path, false);
  if (delay) {
    const dpath = at(path, 'delay');
    if (delay.headerDelay !== undefined) s.add(at(dpath, 'headerDelay'), XDS_PROBLEM.UNSUPPORTED, 'header-controlled delays are not supported by Trellis proxy');
    const ms = readDurationMs(s, delay, 'fixedDelay', dpath, -1);
    if (ms === -1) s.add(at(dpath, 'fixedDelay'), XDS_PROBLEM.REQUIRED, 'required');
    const pm = perMillion(s, delay.percentage, at(dpath, 'percentage'));
    if (ms !== undefined && ms >= 0 && pm !== undefined) out.delay = { ms, perMillion: pm };
  }
  const abort = readObj(s, raw, 'abort', path, false);
  if (abort) {
    const apath = at(path, 'abort');
    const pm = perMillion(s, abort.percentage, at(apath, 'percentage'));
    if (abort.headerAbort !== undefined) s.add(at(apath, 'headerAbort'), XDS_PROBLEM.UNSUPPORTED, 'header-controlled aborts are not supported by Trellis proxy');
    const http = abort.httpStatus;
    const grpc = abort.grpcStatus;
    if (http !== undefined && (typeof http !== 'number' || http < 200 || http > 599)) s.add(at(apath, 'httpStatus'), XDS_PROBLEM.INVALID, `must be 200..599, got ${show(http)}`);
    else if (grpc !== undefined && (typeof grpc !== 'number' || grpc < 0 || grpc > 16)) s.add(at(apath, 'grpcStatus'), XDS_PROBLEM.INVALID, `must be a gRPC status 0..16, got ${show(grpc)}`);
    else if ((http === undefined) === (grpc === undefined)) s.add(apath, XDS_PROBLEM.INVALID, 'exactly one of httpStatus and grpcStatus is required');
    else if (pm !== undefined) out.abort = { httpStatus: typeof http === 'number' ? http : 503, grpcStatus: typeof grpc === 'number' ? grpc : undefined, perMillion: pm };
  }
  const headers: { name: string; value: string }[] = [];
  readList(s, raw, 'headers', path).forEach((h, i) => {
    const hpath = idx(at(path, 'headers'), i);
    if (!isObj(h) || typeof h.name !== 'string' || !isObj(h.stringMatch) || typeof h.stringMatch.exact !== 'string' || Object.keys(h.stringMatch).length !== 1) {
      return void s.add(hpath, XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy supports only { name, stringMatch: { exact } } header conditions for faults');
    }
    headers.push({ name: h.name.toLowerCase(), value: h.stringMatch.exact });
  });
  out.headers = headers;
  for (const f of ['upstreamCluster', 'downstreamNodes', 'maxActiveFaults', 'responseRateLimit']) if (raw[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
  if (s.problems.length > before) return undefined;
  return out;
}

function fullyOn(s: ProblemSink, raw: Obj, field: string, path: string): boolean | undefined {
  const v = readObj(s, raw, field, path, false);
  if (!v) return false;
  const pm = perMillion(s, v.defaultValue ?? { numerator: 0 }, at(at(path, field), 'defaultValue'));
  if (pm === undefined) return undefined;
  if (pm !== 0 && pm !== 1_000_000) return s.add(at(path, field), XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy enables a local rate limit for 0% or 100% of requests only');
  return pm === 1_000_000;
}

/** A LocalRateLimit config; undefined without a problem when it enforces nothing (Envoy's default). */
function decodeRateLimit(s: ProblemSink, raw: Obj, path: string): RateLimitConfig | 'off' | undefined {
  const before = s.problems.length;
  for (const f of ['descriptors', 'stage', 'localRateLimitPerDownstreamConnection', 'localClusterRateLimit', 'status']) if (raw[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
  const enabled = fullyOn(s, raw, 'filterEnabled', path);
  const enforced = fullyOn(s, raw, 'filterEnforced', path);
  const bucket = readObj(s, raw, 'tokenBucket', path, false);
  if (s.problems.length > before || enabled === undefined || enforced === undefined) return undefined;
  if (!enabled || !enforced) return 'off';
  if (!bucket) return s.add(at(path, 'tokenBucket'), XDS_PROBLEM.REQUIRED, 'required when the filter is enabled');
  const bpath = at(path, 'tokenBucket');
  const maxTokens = readWeight(s, bucket.maxTokens, at(bpath, 'maxTokens'), false);
  const tokensPerFill = bucket.tokensPerFill === undefined ? 1 : readWeight(s, bucket.tokensPerFill, at(bpath, 'tokensPerFill'), true);
  const fillIntervalMs = readDurationMs(s, bucket, 'fillInterval', bpath, 0);
  if (maxTokens === 0) s.add(at(bpath, 'maxTokens'), XDS_PROBLEM.INVALID, 'must be above 0');
  if (fillIntervalMs === 0) s.add(at(bpath, 'fillInterval'), XDS_PROBLEM.INVALID, 'required: a duration above 0');
  if (s.problems.length > before || !maxTokens || !tokensPerFill || !fillIntervalMs) return undefined;
  return { maxTokens, tokensPerFill, fillIntervalMs };
}

export interface FilterSettings {
  fault?: FaultConfig;
  rateLimit?: RateLimitConfig;
}

/** Decodes `typedPerFilterConfig` (fault and local_ratelimit); any other filter is refused. */
export function decodePerFilterConfig(s: ProblemSink, raw: Obj, path: string): FilterSettings | undefined {
  const map = readObj(s, raw, 'typedPerFilterConfig', path, false);
  if (!map) return {};
  const before = s.problems.length;
  const out: FilterSettings = {};
  const mpath = at(path, 'typedPerFilterConfig');
  for (const [name, config] of Object.entries(map)) {
    const p = at(mpath, name);
    if (!isObj(config)) { s.add(p, XDS_PROBLEM.INVALID, `must be a typed config, got ${show(config)}`); continue; }
    if (name === FAULT_FILTER) {
      if (checkType(s, config, p, [FAULT_TYPE])) out.fault = decodeFault(s, config, p);
    } else if (name === RATE_LIMIT_FILTER) {
      if (checkType(s, config, p, [RATE_LIMIT_TYPE])) {
        const rl = decodeRateLimit(s, config, p);
        if (rl !== undefined && rl !== 'off') out.rateLimit = rl;
      }
    } else {
      s.add(p, XDS_PROBLEM.UNSUPPORTED, `per-route config of filter ${show(name)} is not supported by Trellis proxy (supported: ${FAULT_FILTER}, ${RATE_LIMIT_FILTER})`);
    }
  }
  return s.problems.length > before ? undefined : out;
}
