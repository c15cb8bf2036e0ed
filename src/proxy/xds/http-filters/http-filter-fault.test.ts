// The fault filter: it takes settings only per route (a listener-level setting is refused);
// its per-route override decodes into the route's fault settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FILTER_FAULT, HTTP_FAULT, typeUrl } from '../../../xds/type-urls.js';
import { ProblemSink } from '../decode-fields.js';
import { httpFilterByType, perRouteFilter, type FilterSettings } from './index.js';

test('listener-level fault settings are refused, a bare config is accepted', () => {
  const fault = httpFilterByType(typeUrl(HTTP_FAULT));
  assert.ok(fault);
  const bare = new ProblemSink('listener "l"');
  fault.decodeConfig(bare, { '@type': typeUrl(HTTP_FAULT), statPrefix: 'f' }, 'c', { authz: [] });
  assert.equal(bare.problems.length, 0);
  const s = new ProblemSink('listener "l"');
  fault.decodeConfig(s, { '@type': typeUrl(HTTP_FAULT), abort: { httpStatus: 503 } }, 'c', { authz: [] });
  assert.deepEqual(
    s.problems.map((p) => `${p.code} ${p.path}`),
    ['XDS_UNSUPPORTED c.abort'],
  );
});

test('a per-route fault decodes its delay, abort and header conditions', () => {
  const kind = perRouteFilter(FILTER_FAULT);
  assert.ok(kind);
  const s = new ProblemSink('route "r"');
  const into: FilterSettings = {};
  kind.perRoute.decode(
    s,
    {
      '@type': typeUrl(HTTP_FAULT),
      delay: { fixedDelay: { seconds: 1 }, percentage: { numerator: 10 } },
      abort: { httpStatus: 418, percentage: { numerator: 5, denominator: 'TEN_THOUSAND' } },
      headers: [{ name: 'X-Chaos', stringMatch: { exact: 'on' } }],
    },
    'p',
    into,
  );
  assert.deepEqual(s.problems, []);
  assert.deepEqual(into.fault, {
    delay: { ms: 1000, perMillion: 100_000 },
    abort: { httpStatus: 418, grpcStatus: undefined, perMillion: 500 },
    headers: [{ name: 'x-chaos', value: 'on' }],
  });
});
