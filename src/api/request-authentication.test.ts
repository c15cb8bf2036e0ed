// Parsing RequestAuthentications: defaults and round trip, and every bad field refused at its path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResource } from './parse.js';
import { assertProblem, withField } from './problem-assert.js';
import { checkJwks } from './request-authentication.js';

const JWKS = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] });
const doc = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'RequestAuthentication',
  metadata: { name: 'users', namespace: 'shop' },
  spec: { targetRef: { kind: 'Service', name: 'web' }, jwtRules: [{ issuer: 'https://id.example.com', audiences: ['shop'], jwks: JWKS }] },
};

test('a RequestAuthentication parses with its defaults (token not forwarded)', () => {
  const r = parseResource(doc);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.kind, 'RequestAuthentication');
  assert.deepEqual(r.value.kind === 'RequestAuthentication' && r.value.spec, {
    targetRef: { kind: 'Service', name: 'web' },
    jwtRules: [{ issuer: 'https://id.example.com', audiences: ['shop'], jwks: JWKS, forwardOriginalToken: false }],
  });
});

test('every field a rule may have parses; a Gateway target is accepted', () => {
  const rule = {
    issuer: 'https://id.example.com',
    jwksUri: 'https://id.example.com/.well-known/jwks.json',
    fromHeaders: [{ name: 'x-token' }, { name: 'Authorization', prefix: 'Bearer ' }],
    fromParams: ['access_token'],
    outputClaimToHeaders: [{ header: 'x-user-group', claim: 'group' }],
    forwardOriginalToken: true,
  };
  const r = parseResource(withField(withField(doc, 'spec.jwtRules', [rule, { issuer: 'b', jwksFile: '/etc/jwks/b.json' }]), 'spec.targetRef', { kind: 'Gateway', name: 'edge' }));
  assert.ok(r.ok, JSON.stringify(r));
  assert.ok(r.value.kind === 'RequestAuthentication');
  assert.deepEqual(r.value.spec.jwtRules[0], rule);
  assert.deepEqual(r.value.spec.targetRef, { kind: 'Gateway', name: 'edge' });
});

test('bad RequestAuthentications are refused with the field path and the reason', () => {
  const cases: [string, unknown, string, string][] = [
    ['spec.jwtRules[0].jwks', '{"keys": [', 'spec.jwtRules[0].jwks', 'must be a JWK Set in JSON'],
    ['spec.jwtRules[0].jwks', '{"keys": []}', 'spec.jwtRules[0].jwks', 'must hold at least one key'],
    ['spec.jwtRules[0].jwks', '{"kty": "EC"}', 'spec.jwtRules[0].jwks', 'a JSON object with a "keys" list'],
    ['spec.jwtRules[0].jwks', '{"keys": [{"x": 1}]}', 'spec.jwtRules[0].jwks', 'keys[0] must be a JWK with a "kty"'],
    ['spec.jwtRules[0].jwksUri', 'ftp://id.example.com/jwks', 'spec.jwtRules[0]', 'exactly one of jwks, jwksUri and jwksFile'],
    ['spec.jwtRules[0].issuer', '', 'spec.jwtRules[0].issuer', 'must not be empty'],
    ['spec.jwtRules[0].fromHeaders', [{ name: 'bad header' }], 'spec.jwtRules[0].fromHeaders[0].name', 'must be a header name'],
    ['spec.jwtRules[0].outputClaimToHeaders', [{ header: 'x-a' }], 'spec.jwtRules[0].outputClaimToHeaders[0].claim', 'required'],
    ['spec.jwtRules', [], 'spec.jwtRules', 'at least 1'],
    ['spec.targetRef', { kind: 'Deployment', name: 'web' }, 'spec.targetRef.kind', ''],
    ['spec.selector', {}, 'spec.selector', 'targetRef'],
  ];
  for (const [field, value, path, fragment] of cases) assertProblem(parseResource(withField(doc, field, value)), path, fragment);
});

test('a URL that is not http(s) and two sources of keys are each named', () => {
  const uriOnly = withField(withField(doc, 'spec.jwtRules[0].jwks', undefined), 'spec.jwtRules[0]', { issuer: 'a', jwksUri: 'ftp://x/jwks' });
  assertProblem(parseResource(uriOnly), 'spec.jwtRules[0].jwksUri', 'must be an http:// or https:// URL');
  assertProblem(parseResource(withField(doc, 'spec.jwtRules[0].jwksFile', '/etc/jwks.json')), 'spec.jwtRules[0]', 'exactly one of jwks, jwksUri and jwksFile');
  assertProblem(parseResource(withField(doc, 'spec.jwtRules[0].jwksFile', 'relative.json')), 'spec.jwtRules[0].jwksFile', 'must be an absolute path');
});

test('two rules of the same issuer are refused', () => {
  const r = parseResource(withField(doc, 'spec.jwtRules[1]', { issuer: 'https://id.example.com', jwksFile: '/etc/j.json' }));
  assertProblem(r, 'spec.jwtRules[1].issuer', 'duplicate issuer "https://id.example.com", already used by spec.jwtRules[0]');
});

test('checkJwks bounds the size', () => {
  assert.match(checkJwks(`{"keys":[${'{"kty":"EC"},'.repeat(6000)}{"kty":"EC"}]}`) ?? '', /at most 65536 bytes/);
  assert.equal(checkJwks(JWKS), undefined);
});
