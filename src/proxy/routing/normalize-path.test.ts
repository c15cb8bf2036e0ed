import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EscapedSlashesAction, PathNormalization } from '../config/runtime-config.js';
import { normalizePath, pathIsNormal } from './normalize-path.js';

const mesh = (escapedSlashes: EscapedSlashesAction = 'KEEP_UNCHANGED', over: Partial<PathNormalization> = {}): PathNormalization => ({
  normalizePath: true,
  mergeSlashes: true,
  escapedSlashes,
  ...over,
});
const MERGE_SLASHES = mesh();

type Expected = string | { reject: RegExp } | { redirect: string };

function check(n: PathNormalization, cases: readonly [string, Expected][]): void {
  for (const [input, want] of cases) {
    const got = normalizePath(input, n);
    if (typeof want === 'string') assert.equal(got, want, `${input} under ${JSON.stringify(n)}`);
    else if ('reject' in want) assert.ok(typeof got !== 'string' && got.kind === 'reject' && want.reject.test(got.reason), `${input} must be refused (${JSON.stringify(got)})`);
    else assert.deepEqual(got, { kind: 'redirect', location: want.redirect }, input);
  }
}

test('every bypass of a DENY on /internal becomes /internal (the mesh default, MERGE_SLASHES)', () => {
  check(MERGE_SLASHES, [
    ['//internal/a', '/internal/a'],
    ['/./internal/a', '/internal/a'],
    ['/x/../internal/a', '/internal/a'],
    ['/.%2e/internal/x', '/internal/x'],
    ['/%69nternal/a', '/internal/a'],
    ['/%2E%2E/%2e%2E/internal', '/internal'],
    ['/a/b/../../../../internal', '/internal'], // `..` above the root stays at the root
    ['///internal//a///b', '/internal/a/b'],
    ['/\\internal/a', '/internal/a'],
    ['\\internal', '\\internal'], // not origin-form: left alone (no route or policy sees it as a path)
    ['/a/./b/.', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
    ['/a/..%2F/internal', '/a/..%2F/internal'], // an escaped slash is kept: `..%2F` is one segment
  ]);
});

test('normalization: unreserved escapes decoded, others upper-cased, the query untouched', () => {
  check(MERGE_SLASHES, [
    ['/%7euser/%41%62%2d%5F%2E', '/~user/Ab-_.'],
    ['/a%3fb%2c', '/a%3Fb%2C'],
    ['/a%25%32%46', '/a%252F'], // a decoded `%` never starts a new escape
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a//b?x=//..&y=%2e%zz', '/a/b?x=//..&y=%2e%zz'],
    ['/items?id=1', '/items?id=1'],
    ['/', '/'],
    ['*', '*'],
  ]);
});

test('paths that cannot be normalized safely are refused with a reason', () => {
  check(MERGE_SLASHES, [
    ['/a%zz', { reject: /"%zz" at offset 2 is not a valid percent-encoding/ }],
    ['/a%4', { reject: /not a valid percent-encoding/ }],
    ['/a%', { reject: /not a valid percent-encoding/ }],
    ['/a%00b', { reject: /encoded NUL/ }],
    ['/a\0b', { reject: /NUL character/ }],
  ]);
});

test('escaped slashes and backslashes follow path_with_escaped_slashes_action', () => {
  check(mesh('KEEP_UNCHANGED'), [
    ['/a%2fb%5cc', '/a%2Fb%5Cc'],
    ['/%2Finternal', '/%2Finternal'],
  ]);
  check(mesh('REJECT_REQUEST'), [
    ['/a%2fb', { reject: /escaped slash \(%2F\).*REJECT_REQUEST/ }],
    ['/a%5Cb', { reject: /escaped backslash/ }],
    ['/a/b', '/a/b'],
    ['/a%41', '/aA'],
  ]);
  check(mesh('UNESCAPE_AND_FORWARD'), [
    ['/%2Finternal%2fa', '/internal/a'],
    ['/a%5Cb', '/a/b'],
    ['/a%2F..%2Finternal', '/internal'],
  ]);
  check(mesh('UNESCAPE_AND_REDIRECT'), [
    ['/%2Finternal%2fa?x=1', { redirect: '/internal/a?x=1' }],
    ['/a//b', '/a/b'],
    ['/%69', '/i'],
  ]);
});

test('each HCM field alone: BASE keeps slashes, merge_slashes alone does not touch dots, NONE-like settings touch nothing', () => {
  check(mesh('KEEP_UNCHANGED', { mergeSlashes: false }), [
    ['//internal/./a', '//internal/a'],
    ['/a\\b', '/a/b'],
  ]);
  check(mesh('KEEP_UNCHANGED', { normalizePath: false }), [
    ['//internal/./a%2e', '/internal/./a%2e'],
    ['/a\\b', '/a\\b'],
  ]);
  check(mesh('KEEP_UNCHANGED', { normalizePath: false, mergeSlashes: false }), [['//x/../%zz', '//x/../%zz']]);
  check(mesh('UNESCAPE_AND_FORWARD', { normalizePath: false, mergeSlashes: false }), [['/a%2Fb%5Cc%zz', '/a/b\\c%zz']]);
});

test('normalizing twice changes nothing more (what authorization saw is what the app gets)', () => {
  const inputs = ['//internal/a', '/./internal/a', '/x/../internal/a', '/.%2e/internal/x', '/%69nternal/a', '/a/.//./b', '/a/..//x', '/.//..', '/a%252F', '/a%2F%2e%2e/b'];
  for (const action of ['KEEP_UNCHANGED', 'UNESCAPE_AND_FORWARD'] as const) {
    for (const input of inputs) {
      const once = normalizePath(input, mesh(action));
      assert.equal(typeof once, 'string');
      assert.equal(normalizePath(once as string, mesh(action)), once, `${input} (${action})`);
    }
  }
});

test('the fast check passes ordinary paths and catches every character that needs work', () => {
  for (const p of ['/', '/items/42', '/a.b/c-d_e~f', '/a?x=//..%2e', '/v1/users?q=a%20b']) assert.ok(pathIsNormal(p), p);
  for (const p of ['//a', '/./a', '/a/..', '/%41', '/a\\b', '/a\0', '/.well-known']) assert.ok(!pathIsNormal(p), p);
});
