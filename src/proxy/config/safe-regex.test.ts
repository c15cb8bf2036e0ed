import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SafeRegex } from './safe-regex.js';

const compile = (p: string, ignoreCase = false): SafeRegex => {
  const r = SafeRegex.compile(p, ignoreCase);
  if ('error' in r) throw new Error(r.error);
  return r;
};

test('a backtracking-prone pattern on a long input completes with the right answer (RE2 is linear)', () => {
  // JavaScript's engine takes time doubling per character on these; 30 characters froze the sidecar for 5 s.
  const nested = compile('(a+)+$');
  assert.equal(nested.test('a'.repeat(100_000) + 'b'), false);
  assert.equal(nested.test('a'.repeat(100_000)), true);
  const alternation = compile('(a|aa)+');
  assert.equal(alternation.test('a'.repeat(50_000) + '!'), false);
  const star = compile('(.*a){12}');
  assert.equal(star.test('a'.repeat(12)), true);
  assert.equal(star.test('a'.repeat(11) + 'b'.repeat(20_000)), false);
});

test('matches are full-string, as Envoy safe_regex; RE2 spellings work; no state between calls', () => {
  const r = compile('/v[0-9]+/.*');
  assert.equal(r.test('/v2/x'), true);
  assert.equal(r.test('/api/v2/x'), false);
  assert.equal(r.test('/v2/x'), true, 'a second call answers the same');
  assert.equal(compile('[[:alpha:]]+').test('abc'), true);
  assert.equal(compile('(?i)canary').test('CANARY'), true);
  assert.equal(compile('canary', true).test('Canary'), true);
  assert.equal(compile('(?P<id>\\d+)').test('42'), true);
});

test('literal matchers quote their value; replaceAll replaces every match with $1 groups', () => {
  assert.equal(SafeRegex.literal('exact', 'a.b', true).test('A.B'), true);
  assert.equal(SafeRegex.literal('exact', 'a.b', true).test('aXb'), false);
  assert.equal(SafeRegex.literal('prefix', '(adm', false).test('(admin'), true);
  assert.equal(SafeRegex.literal('suffix', '.json', false).test('a.json'), true);
  assert.equal(SafeRegex.literal('suffix', '.json', false).test('a.jsonx'), false);
  assert.equal(SafeRegex.literal('contains', 'x\ny', false).test('ax\nyb'), true);
  assert.equal(compile('/v1/([a-z]+)').replaceAll('/v1/abc/v1/x', '/v2/$1'), '/v2/abc/v2/x');
  assert.equal(JSON.stringify({ r: compile('a+') }), '{"r":"a+"}');
});

test('what RE2 refuses is an error value, not a throw', () => {
  const r = SafeRegex.compile('(a)\\1');
  assert.ok('error' in r && /backreferences/.test(r.error));
});
