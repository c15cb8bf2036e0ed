import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAuthorizationPolicy } from './authorization-policy.js';

const base = { apiVersion: 'trellis.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace: 'shop' } };
const withSpec = (spec: unknown) => ({ ...base, spec });

test('a policy parses with its target, rules and defaults', () => {
  const r = parseAuthorizationPolicy(
    withSpec({
      targetRef: { kind: 'Service', name: 'payments' },
      action: 'ALLOW',
      rules: [{ from: [{ serviceAccounts: ['web', 'ops/admin'] }], to: [{ methods: ['GET'], paths: [{ prefix: '/api' }], headers: [{ name: 'x-tenant', exact: 'a' }] }] }],
    }),
  );
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value.spec, {
    targetRef: { kind: 'Service', name: 'payments' },
    action: 'ALLOW',
    rules: [{ from: [{ serviceAccounts: ['web', 'ops/admin'] }], to: [{ methods: ['GET'], paths: [{ prefix: '/api' }], headers: [{ name: 'x-tenant', exact: 'a' }] }] }],
  });
  assert.equal(r.value.metadata.namespace, 'shop');
});

test('bad policies are refused with every field path', () => {
  const cases: [unknown, string][] = [
    [{ action: 'AUDIT', rules: [] }, 'spec.action'],
    [{ action: 'ALLOW', rules: [{ from: [{}] }] }, 'spec.rules[0].from[0]: must name serviceAccounts, namespaces or authenticated: true'],
    [{ action: 'ALLOW', rules: [{ to: [{ paths: [{ exact: '/a', prefix: '/b' }] }] }] }, 'spec.rules[0].to[0].paths[0]: exactly one of exact and prefix is required'],
    [{ action: 'ALLOW', rules: [{ to: [{ paths: [{ exact: 'a' }] }] }] }, 'spec.rules[0].to[0].paths[0].exact: must start with /'],
    [{ action: 'DENY', rules: [{ to: [{ methods: ['get'] }] }] }, 'spec.rules[0].to[0].methods[0]: must be an upper-case HTTP method'],
    [{ action: 'DENY', rules: [{ from: [{ serviceAccounts: ['a/b/c'] }] }] }, 'spec.rules[0].from[0].serviceAccounts[0]: must be NAME or NAMESPACE/NAME'],
    [{ action: 'DENY', targetRef: { kind: 'Deployment', name: 'x' }, rules: [] }, 'spec.targetRef.kind'],
    [{ action: 'DENY', rules: [], selector: {} }, 'spec.selector'],
  ];
  for (const [spec, expected] of cases) {
    const r = parseAuthorizationPolicy(withSpec(spec));
    assert.equal(r.ok, false, JSON.stringify(spec));
    if (!r.ok)
      assert.ok(
        r.error.some((p) => `${p.path}: ${p.message}`.startsWith(expected) || p.path === expected),
        `${expected} in ${JSON.stringify(r.error)}`,
      );
  }
});

test('request principals, their negation and `when` conditions on JWT claims parse and round-trip', () => {
  const rules = [
    {
      from: [{ requestPrincipals: ['https://id.example.com/*', '*@example.com'], notRequestPrincipals: ['https://id.example.com/banned'] }],
      when: [
        { key: 'request.auth.claims[group]', values: ['admins'] },
        { key: 'request.auth.claims[realm][role]', notValues: ['guest'] },
        { key: 'request.auth.audiences', values: ['shop'] },
      ],
    },
  ];
  const r = parseAuthorizationPolicy(withSpec({ action: 'ALLOW', rules }));
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value.spec.rules, rules);
});

test('bad request principals and conditions are refused at their paths', () => {
  const cases: [unknown, string][] = [
    [{ action: 'ALLOW', rules: [{ from: [{ requestPrincipals: ['a*b*'] }] }] }, 'spec.rules[0].from[0].requestPrincipals[0]: must be exact, "*", "prefix*" or "*suffix"'],
    [{ action: 'ALLOW', rules: [{ when: [{ key: 'request.headers[x]', values: ['a'] }] }] }, 'spec.rules[0].when[0].key: must be request.auth.principal'],
    [{ action: 'ALLOW', rules: [{ when: [{ key: 'request.auth.claims[group]' }] }] }, 'spec.rules[0].when[0]: must name values or notValues'],
    [{ action: 'ALLOW', rules: [{ when: [{ key: 'request.auth.claims[]', values: ['a'] }] }] }, 'spec.rules[0].when[0].key: must be request.auth.principal'],
  ];
  for (const [spec, expected] of cases) {
    const r = parseAuthorizationPolicy(withSpec(spec));
    assert.equal(r.ok, false, JSON.stringify(spec));
    if (!r.ok)
      assert.ok(
        r.error.some((p) => `${p.path}: ${p.message}`.startsWith(expected)),
        `${expected} in ${JSON.stringify(r.error)}`,
      );
  }
});
