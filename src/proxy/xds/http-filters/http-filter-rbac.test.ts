// The RBAC HTTP filter: its rules join the listener's in filter order; a rule the proxy would
// not enforce as written is a problem at the config's path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTP_RBAC, typeUrl } from '../../../xds/type-urls.js';
import { ProblemSink } from '../decode-fields.js';
import { httpFilterByType, type HcmFilterSettings } from './index.js';

const rbac = httpFilterByType(typeUrl(HTTP_RBAC));

test('each RBAC filter adds its rules, in order', () => {
  assert.ok(rbac);
  const s = new ProblemSink('listener "l"');
  const into: HcmFilterSettings = { authz: [] };
  rbac.decodeConfig(
    s,
    { '@type': typeUrl(HTTP_RBAC), rules: { action: 'DENY', policies: { 'ns/p/rules[0]': { principals: [{ any: true }], permissions: [{ any: true }] } } } },
    'p',
    into,
  );
  rbac.decodeConfig(s, { '@type': typeUrl(HTTP_RBAC), rules: {} }, 'q', into);
  assert.deepEqual(s.problems, []);
  assert.deepEqual(into.authz, [
    { action: 'deny', policies: [{ name: 'ns/p/rules[0]', principals: [{ any: true }], permissions: [{ any: true }] }] },
    { action: 'allow', policies: [] },
  ]);
});

test('an RBAC filter without rules is a problem and adds nothing', () => {
  assert.ok(rbac);
  const s = new ProblemSink('listener "l"');
  const into: HcmFilterSettings = { authz: [] };
  rbac.decodeConfig(s, { '@type': typeUrl(HTTP_RBAC), shadowRules: {} }, 'httpFilters[0].typedConfig', into);
  assert.deepEqual(
    s.problems.map((p) => `${p.code} ${p.path}`),
    ['XDS_UNSUPPORTED httpFilters[0].typedConfig', 'XDS_REQUIRED httpFilters[0].typedConfig.rules'],
  );
  assert.deepEqual(into.authz, []);
});
