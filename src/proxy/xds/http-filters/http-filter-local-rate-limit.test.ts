// The local rate limit filter: settings only per route; an override enforced for every request
// gives the route its token bucket, one switched off gives it none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FILTER_LOCAL_RATE_LIMIT, LOCAL_RATE_LIMIT, typeUrl } from '../../../xds/type-urls.js';
import { ProblemSink } from '../decode-fields.js';
import { httpFilterByType, perRouteFilter, type FilterSettings } from './index.js';

const ALWAYS = { defaultValue: { numerator: 100 }, runtimeKey: 'k' };

test('listener-level rate limit settings are refused', () => {
  const kind = httpFilterByType(typeUrl(LOCAL_RATE_LIMIT));
  assert.ok(kind);
  const s = new ProblemSink('listener "l"');
  kind.decodeConfig(s, { '@type': typeUrl(LOCAL_RATE_LIMIT), statPrefix: 'rl', tokenBucket: { maxTokens: 1 } }, 'c', { authz: [] });
  assert.deepEqual(
    s.problems.map((p) => `${p.code} ${p.path}`),
    ['XDS_UNSUPPORTED c.tokenBucket'],
  );
});

test('an enforced per-route override gives the route its token bucket', () => {
  const kind = perRouteFilter(FILTER_LOCAL_RATE_LIMIT);
  assert.ok(kind);
  const s = new ProblemSink('route "r"');
  const into: FilterSettings = {};
  kind.perRoute.decode(
    s,
    {
      '@type': typeUrl(LOCAL_RATE_LIMIT),
      statPrefix: 'rl',
      tokenBucket: { maxTokens: 5, tokensPerFill: { value: 2 }, fillInterval: { seconds: 1 } },
      filterEnabled: ALWAYS,
      filterEnforced: ALWAYS,
    },
    'p',
    into,
  );
  assert.deepEqual(s.problems, []);
  assert.deepEqual(into.rateLimit, { maxTokens: 5, tokensPerFill: 2, fillIntervalMs: 1000 });
});

test('an override not enabled for every request gives the route no limit', () => {
  const kind = perRouteFilter(FILTER_LOCAL_RATE_LIMIT);
  assert.ok(kind);
  const s = new ProblemSink('route "r"');
  const into: FilterSettings = {};
  kind.perRoute.decode(s, { '@type': typeUrl(LOCAL_RATE_LIMIT), statPrefix: 'rl', tokenBucket: { maxTokens: 5, fillInterval: { seconds: 1 } } }, 'p', into);
  assert.deepEqual(s.problems, []);
  assert.deepEqual(into, {});
});
