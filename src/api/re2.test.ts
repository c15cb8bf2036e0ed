import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGRPCRoute } from './grpc-route.js';
import { parseHTTPRoute } from './http-route.js';
import { assertOk, assertProblem, withField } from './problem-assert.js';
import { checkRe2 } from './re2.js';

test('RE2 patterns are accepted, including the RE2 spellings JavaScript lacks', () => {
  for (const p of ['^/api/v[0-9]+$', '.*', '(a|b)', '(a+)+$', '(?i)canary', '(?P<id>[0-9]+)', '\\Aabc\\z', '[[:alpha:]]+', '\\pL+']) assert.equal(checkRe2(p), undefined, p);
});

test('what RE2 does not support is refused, naming the construct and the value', () => {
  const cases: [string, RegExp][] = [
    ['(', /missing closing \)/],
    ['[', /missing closing \]/],
    ['*a', /missing argument to repetition operator/],
    ['a{2,1}', /invalid repeat count/],
    ['a{1001}', /invalid repeat count/],
    ['(a)\\1', /backreferences \(\\1, \\k<name>, \(\?P=name\)\) are not supported by RE2/],
    ['(?<n>a)\\k<n>', /backreferences .* are not supported by RE2/],
    ['foo(?=bar)', /lookahead \(\?= or \(\?! is not supported by RE2/],
    ['(?!admin)', /lookahead .* is not supported by RE2/],
    ['(?<=a)b', /lookbehind \(\?<= or \(\?<! is not supported by RE2/],
    ['(?<!a)b', /lookbehind .* is not supported by RE2/],
    ['a++', /possessive quantifiers/],
  ];
  for (const [pattern, reason] of cases) {
    const message = checkRe2(pattern);
    assert.ok(message !== undefined, `${pattern} accepted`);
    assert.match(message, reason, pattern);
    assert.match(message, /must be a valid regular expression in RE2 syntax/);
    assert.ok(message.includes(`got ${JSON.stringify(pattern)}`), message);
  }
});

const httpRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r' },
  spec: { parentRefs: [{ name: 'svc', port: 8080 }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'svc', port: 8080 }] }] },
};

test('an HTTPRoute with a non-RE2 pattern is refused at apply, naming the field path', () => {
  assertProblem(
    parseHTTPRoute(withField(httpRoute, 'spec.rules[0].matches[0].path', { type: 'RegularExpression', value: '/(?!internal).*' })),
    'spec.rules[0].matches[0].path.value',
    'lookahead',
  );
  assertProblem(
    parseHTTPRoute(withField(httpRoute, 'spec.rules[0].matches[0].headers', [{ type: 'RegularExpression', name: 'x-a', value: '(a)\\1' }])),
    'spec.rules[0].matches[0].headers[0].value',
    'backreferences',
  );
  assertProblem(
    parseHTTPRoute(withField(httpRoute, 'spec.rules[0].matches[0].queryParams', [{ type: 'RegularExpression', name: 'q', value: '(?<=a)b' }])),
    'spec.rules[0].matches[0].queryParams[0].value',
    'lookbehind',
  );
  // RE2 accepts a pattern that backtracking engines take exponential time on: it matches it in linear time.
  assertOk(parseHTTPRoute(withField(httpRoute, 'spec.rules[0].matches[0].headers', [{ type: 'RegularExpression', name: 'x-a', value: '(a+)+$' }])));
});

const grpcRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GRPCRoute',
  metadata: { name: 'g' },
  spec: { parentRefs: [{ name: 'g', port: 9000 }], rules: [{ matches: [{ method: { service: 'test.Echo' } }], backendRefs: [{ name: 'g', port: 9000 }] }] },
};

test('a GRPCRoute with a non-RE2 method or header pattern is refused at apply, naming the field path', () => {
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].matches[0].method', { type: 'RegularExpression', service: '(?=x)test.*' })),
    'spec.rules[0].matches[0].method.service',
    'lookahead',
  );
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].matches[0].headers', [{ type: 'RegularExpression', name: 'x-a', value: '(a)\\1' }])),
    'spec.rules[0].matches[0].headers[0].value',
    'backreferences',
  );
  assertOk(parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].matches[0].headers', [{ type: 'RegularExpression', name: 'x-a', value: 'v[0-9]+' }])));
});
