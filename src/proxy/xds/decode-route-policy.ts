// Decodes the resilience parts of routes and virtual hosts: RetryPolicy, hash policy, and the
// per-filter configs (typedPerFilterConfig) of the HTTP filters that take them (http-filters/).
import type { HashConfig, RetryConditions, RetryConfig } from '../config/resilience-config.js';
import { XDS_PROBLEM, show } from './errors.js';
import type { ProblemSink } from './decode-fields.js';
import { at, checkType, idx, isObj, readDurationMs, readList, readName, readObj, readWeight, type Obj } from './decode-fields.js';
import { decodeStringMatcher } from './decode-route-match.js';
import { SafeRegex } from '../config/safe-regex.js';
import { perRouteFilter, perRouteFilterNames, type FilterSettings } from './http-filters/index.js';

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
    for (const c of retryOn
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '')) {
      if (c in GRPC_CONDITIONS) grpcStatuses.push(GRPC_CONDITIONS[c]!);
      else if (c === 'connect-failure') on.connectFailure = true;
      else if (c === 'reset') on.reset = true;
      else if (c === '5xx') on.fiveXx = true;
      else if (c === 'gateway-error') on.gatewayError = true;
      else if (c === 'retriable-status-codes') on.retriableStatus = true;
      else
        s.add(
          at(path, 'retryOn'),
          XDS_PROBLEM.UNSUPPORTED,
          `retry condition ${show(c)} is not supported by Trellis proxy (supported: ${[...HTTP_CONDITIONS, ...Object.keys(GRPC_CONDITIONS)].join(', ')})`,
        );
    }
  }
  const numRetries = raw.numRetries === undefined ? DEFAULT_RETRIES : readWeight(s, raw.numRetries, at(path, 'numRetries'), true);
  const perTryTimeoutMs = readDurationMs(s, raw, 'perTryTimeout', path, 0);
  const statusCodes: number[] = [];
  readList(s, raw, 'retriableStatusCodes', path).forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 100 || c > 599)
      s.add(idx(at(path, 'retriableStatusCodes'), i), XDS_PROBLEM.INVALID, `must be an HTTP status 100..599, got ${show(c)}`);
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
    if (backoffBaseMs !== undefined && backoffMaxMs !== undefined && backoffMaxMs < backoffBaseMs)
      s.add(at(bpath, 'maxInterval'), XDS_PROBLEM.INVALID, `must not be below baseInterval (${backoffBaseMs} ms), got ${backoffMaxMs} ms`);
  }
  let methods: SafeRegex | undefined;
  readList(s, raw, 'retriableRequestHeaders', path).forEach((h, i) => {
    const hpath = idx(at(path, 'retriableRequestHeaders'), i);
    if (!isObj(h) || h.name !== ':method' || h.stringMatch === undefined)
      return void s.add(hpath, XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy supports only a `:method` stringMatch here (which methods are retried)');
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

/** Decodes `typedPerFilterConfig`: each key names a filter that takes per-route overrides (http-filters/); any other is refused. */
export function decodePerFilterConfig(s: ProblemSink, raw: Obj, path: string): FilterSettings | undefined {
  const map = readObj(s, raw, 'typedPerFilterConfig', path, false);
  if (!map) return {};
  const before = s.problems.length;
  const out: FilterSettings = {};
  const mpath = at(path, 'typedPerFilterConfig');
  for (const [name, config] of Object.entries(map)) {
    const p = at(mpath, name);
    if (!isObj(config)) {
      s.add(p, XDS_PROBLEM.INVALID, `must be a typed config, got ${show(config)}`);
      continue;
    }
    const kind = perRouteFilter(name);
    if (kind === undefined)
      s.add(p, XDS_PROBLEM.UNSUPPORTED, `per-route config of filter ${show(name)} is not supported by Trellis proxy (supported: ${perRouteFilterNames().join(', ')})`);
    else if (checkType(s, config, p, [kind.perRoute.typeUrl])) kind.perRoute.decode(s, config, p, out);
  }
  return s.problems.length > before ? undefined : out;
}
