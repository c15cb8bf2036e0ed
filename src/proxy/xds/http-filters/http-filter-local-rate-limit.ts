// HTTP filter: local rate limit (envoy.filters.http.local_ratelimit). It acts only through
// per-route overrides (a token bucket enforced for all requests, or off); listener-level
// settings are refused.
import type { RateLimitConfig } from '../../config/resilience-config.js';
import { FILTER_LOCAL_RATE_LIMIT, LOCAL_RATE_LIMIT, typeUrl } from '../../../xds/type-urls.js';
import { XDS_PROBLEM } from '../errors.js';
import { at, readDurationMs, readObj, readPerMillion, readWeight, type Obj, type ProblemSink } from '../decode-fields.js';
import { refuseListenerSettings, registerHttpFilter } from './http-filter.js';

function fullyOn(s: ProblemSink, raw: Obj, field: string, path: string): boolean | undefined {
  const v = readObj(s, raw, field, path, false);
  if (!v) return false;
  const pm = readPerMillion(s, v.defaultValue ?? { numerator: 0 }, at(at(path, field), 'defaultValue'));
  if (pm === undefined) return undefined;
  if (pm !== 0 && pm !== 1_000_000) return s.add(at(path, field), XDS_PROBLEM.UNSUPPORTED, 'Trellis proxy enables a local rate limit for 0% or 100% of requests only');
  return pm === 1_000_000;
}

/** A LocalRateLimit config; undefined without a problem when it enforces nothing (Envoy's default). */
function decodeRateLimit(s: ProblemSink, raw: Obj, path: string): RateLimitConfig | 'off' | undefined {
  const before = s.problems.length;
  for (const f of ['descriptors', 'stage', 'localRateLimitPerDownstreamConnection', 'localClusterRateLimit', 'status'])
    if (raw[f] !== undefined) s.add(at(path, f), XDS_PROBLEM.UNSUPPORTED, 'not supported by Trellis proxy');
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

registerHttpFilter({
  name: FILTER_LOCAL_RATE_LIMIT,
  typeUrl: typeUrl(LOCAL_RATE_LIMIT),
  decodeConfig: refuseListenerSettings,
  perRoute: {
    typeUrl: typeUrl(LOCAL_RATE_LIMIT),
    decode(s, config, path, into) {
      const rl = decodeRateLimit(s, config, path);
      if (rl !== undefined && rl !== 'off') into.rateLimit = rl;
    },
  },
});
