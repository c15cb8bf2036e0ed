import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize, type AuthzRules } from './authz-config.js';

const web = 'spiffe://t/ns/default/sa/web';
const req = (peer: string | undefined, path = '/', headers: Record<string, string> = {}) => ({ peer, path, header: (n: string) => headers[n] });
const deny: AuthzRules = { action: 'deny', policies: [{ name: 'd', principals: [{ any: true }], permissions: [{ path: { prefix: '/admin' } }] }] };
const allow: AuthzRules = { action: 'allow', policies: [{ name: 'a', principals: [{ authenticated: { exact: web } }], permissions: [{ any: true }] }] };

test('DENY wins over ALLOW; ALLOW refuses what it does not match; no rules allow everything', () => {
  assert.deepEqual(authorize([], req(undefined)), { allowed: true });
  assert.deepEqual(authorize([deny, allow], req(web, '/x')), { allowed: true, policy: 'a' });
  assert.equal(authorize([deny, allow], req(web, '/admin/x')).allowed, false);
  assert.equal(authorize([deny, allow], req('spiffe://t/ns/default/sa/other', '/x')).allowed, false);
  assert.equal(authorize([deny, allow], req(undefined, '/x')).allowed, false, 'plaintext has no identity');
  const none = authorize([{ action: 'allow', policies: [] }], req(web));
  assert.ok(!none.allowed && /default deny/.test(none.reason));
});

test('paths ignore the query; header, method and not/and/or combine', () => {
  const rules: AuthzRules[] = [
    {
      action: 'allow',
      policies: [
        {
          name: 'p',
          principals: [{ or: [{ authenticated: { prefix: 'spiffe://t/ns/default/' } }] }],
          permissions: [
            { and: [{ header: { name: ':method', match: { exact: 'GET' } } }, { path: { exact: '/a' } }, { not: { header: { name: 'x-debug', match: { present: true } } } }] },
          ],
        },
      ],
    },
  ];
  assert.equal(authorize(rules, req(web, '/a?x=1', { ':method': 'GET' })).allowed, true);
  assert.equal(authorize(rules, req(web, '/a', { ':method': 'POST' })).allowed, false);
  assert.equal(authorize(rules, req(web, '/a', { ':method': 'GET', 'x-debug': '1' })).allowed, false);
  assert.equal(authorize(rules, { peer: web }).allowed, false, 'a TCP connection never matches HTTP conditions');
});
