import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intersectHostname, routeHostnamesOnListener } from './hostname-intersection.js';

const cases: [string, string, string | undefined][] = [
  ['a.example.com', 'a.example.com', 'a.example.com'],
  ['a.example.com', 'b.example.com', undefined],
  ['*.example.com', 'a.example.com', 'a.example.com'],
  ['*.example.com', 'a.b.example.com', 'a.b.example.com'],
  ['*.example.com', 'example.com', undefined],
  ['*.example.com', '*.a.example.com', '*.a.example.com'],
  ['*.a.example.com', '*.example.com', '*.a.example.com'],
  ['*.example.com', '*.example.org', undefined],
  ['*.example.com', 'aexample.com', undefined],
];
for (const [a, b, want] of cases) {
  test(`${a} ∩ ${b} is ${want ?? 'nothing'} (either way round)`, () => {
    assert.equal(intersectHostname(a, b), want);
    assert.equal(intersectHostname(b, a), want);
  });
}

test('a route without hostnames takes the listener hostname; with neither, any host', () => {
  assert.deepEqual(routeHostnamesOnListener('shop.example.com', undefined), ['shop.example.com']);
  assert.deepEqual(routeHostnamesOnListener('*.example.com', []), ['*.example.com']);
  assert.deepEqual(routeHostnamesOnListener(undefined, undefined), ['*']);
});

test('a listener without hostname accepts every route hostname as written', () => {
  assert.deepEqual(routeHostnamesOnListener(undefined, ['a.example.com', '*.example.org']), ['a.example.com', '*.example.org']);
});

test('a wildcard listener keeps the route names it covers, narrowed, and drops the others', () => {
  assert.deepEqual(routeHostnamesOnListener('*.example.com', ['a.example.com', 'a.example.org', '*.com']), ['a.example.com', '*.example.com']);
});

test('no shared name gives an empty list (NoMatchingListenerHostname)', () => {
  assert.deepEqual(routeHostnamesOnListener('shop.example.com', ['api.example.com']), []);
});
