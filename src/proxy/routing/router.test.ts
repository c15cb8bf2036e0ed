// The compiled router: host lookup order and rule matching, table-driven.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteRule } from '../config/runtime-config.js';
import { routeTable, rule, safeRegex, virtualHost } from '../testing/config-builder.js';
import { Router, type RouteInput } from './router.js';

const input = (path: string, headers: Record<string, string> = {}, method = 'GET'): RouteInput => ({ method, path, header: (n) => headers[n] });
const router = (hosts: [string, string[], RouteRule[]][]) =>
  new Router(
    routeTable(
      't',
      hosts.map(([n, d, r]) => virtualHost(n, d, r)),
    ),
    (c) => c,
  );
const routeName = (r: Router<string>, authority: string, i: RouteInput) => r.route(authority, i)?.name;

test('host lookup: host:port, then host, then *.suffix (longest first), then *', () => {
  const r = router([
    ['withport', ['api.mesh:8080'], [rule('r', 'c')]],
    ['bare', ['api.mesh'], [rule('r', 'c')]],
    ['wild', ['*.mesh'], [rule('r', 'c')]],
    ['wilder', ['*.eu.mesh'], [rule('r', 'c')]],
    ['star', ['*'], [rule('r', 'c')]],
  ]);
  const cases: [string, string][] = [
    ['api.mesh:8080', 'withport/r'],
    ['API.Mesh:8080', 'withport/r'],
    ['api.mesh:9090', 'bare/r'],
    ['api.mesh', 'bare/r'],
    ['x.mesh', 'wild/r'],
    ['x.eu.mesh:1', 'wilder/r'],
    ['mesh', 'star/r'],
    ['[::1]:80', 'star/r'],
    ['', 'star/r'],
  ];
  for (const [authority, expected] of cases) assert.equal(routeName(r, authority, input('/')), expected, authority);
});

test('no virtual host and no * means no route', () => {
  const r = router([['only', ['only.mesh'], [rule('r', 'c')]]]);
  assert.equal(r.route('other.mesh', input('/')), undefined);
});

test('path matching by kind, the query string ignored', () => {
  const r = router([
    [
      'h',
      ['*'],
      [
        rule('exact', 'c', { path: { type: 'exact', value: '/a' } }),
        rule('seg', 'c', { path: { type: 'segment-prefix', value: '/b/' } }),
        rule('prefix', 'c', { path: { type: 'prefix', value: '/c' } }),
        rule('regex', 'c', { path: { type: 'regex', regex: safeRegex('/d/\\d+') } }),
      ],
    ],
  ]);
  const cases: [string, string | undefined][] = [
    ['/a', 'h/exact'],
    ['/a?x=1', 'h/exact'],
    ['/a/', undefined],
    ['/b', 'h/seg'],
    ['/b/x', 'h/seg'],
    ['/bx', undefined],
    ['/c', 'h/prefix'],
    ['/cat', 'h/prefix'],
    ['/d/12', 'h/regex'],
    ['/d/12', 'h/regex'], // a global flag must not make the second test fail
    ['/d/12/x', undefined],
  ];
  for (const [path, expected] of cases) assert.equal(routeName(r, 'h', input(path)), expected, path);
});

test('segment prefix / matches everything', () => {
  const r = router([['h', ['*'], [rule('all', 'c', { path: { type: 'segment-prefix', value: '/' } })]]]);
  assert.equal(routeName(r, 'h', input('/anything/at/all')), 'h/all');
});

test('header matches: exact, regex, present, and :method', () => {
  const r = router([
    [
      'h',
      ['*'],
      [
        rule('exact', 'c', { headers: [{ name: 'x-a', match: { type: 'exact', value: '1' } }] }),
        rule('regex', 'c', { headers: [{ name: 'x-b', match: { type: 'regex', regex: safeRegex('v[0-9]') } }] }),
        rule('present', 'c', { headers: [{ name: 'x-c', match: { type: 'present' } }] }),
        rule('method', 'c', { headers: [{ name: ':method', match: { type: 'exact', value: 'DELETE' } }] }),
        rule('both', 'c', {
          headers: [
            { name: 'x-d', match: { type: 'exact', value: '1' } },
            { name: 'x-e', match: { type: 'exact', value: '2' } },
          ],
        }),
      ],
    ],
  ]);
  const cases: [Record<string, string>, string, string | undefined][] = [
    [{ 'x-a': '1' }, 'GET', 'h/exact'],
    [{ 'x-a': '2' }, 'GET', undefined],
    [{ 'x-b': 'v3' }, 'GET', 'h/regex'],
    [{ 'x-b': 'v33' }, 'GET', undefined],
    [{ 'x-c': '' }, 'GET', 'h/present'],
    [{}, 'DELETE', 'h/method'],
    [{ 'x-d': '1' }, 'GET', undefined],
    [{ 'x-d': '1', 'x-e': '2' }, 'GET', 'h/both'],
  ];
  for (const [headers, method, expected] of cases) assert.equal(routeName(r, 'h', input('/', headers, method)), expected, JSON.stringify(headers));
});

test('query matches: exact and regex on decoded values', () => {
  const r = router([
    [
      'h',
      ['*'],
      [
        rule('exact', 'c', { query: [{ name: 'v', match: { type: 'exact', value: 'a b' } }] }),
        rule('regex', 'c', { query: [{ name: 'n', match: { type: 'regex', regex: safeRegex('\\d+') } }] }),
      ],
    ],
  ]);
  assert.equal(routeName(r, 'h', input('/?v=a%20b')), 'h/exact');
  assert.equal(routeName(r, 'h', input('/?x=1&n=42')), 'h/regex');
  assert.equal(routeName(r, 'h', input('/?n=x')), undefined);
  assert.equal(routeName(r, 'h', input('/')), undefined);
});

test('a route carries its timeout and resolved backends', () => {
  const r = new Router(routeTable('t', [virtualHost('h', ['*'], [rule('r', [{ cluster: 'one', weight: 1 }], { timeoutMs: 250 })])]), (c) => ({ cluster: c }));
  const route = r.route('h', input('/'))!;
  assert.equal(route.timeoutMs, 250);
  assert.deepEqual(route.backends.pick(), { cluster: 'one' });
});
