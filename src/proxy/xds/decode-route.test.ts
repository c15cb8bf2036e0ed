import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ROUTE_TIMEOUT_MS, decodeRouteConfiguration } from './decode-route.js';
import { formatProblems } from './errors.js';
import { prefixRoute, routeConfig, wireRoute } from './xds-fixtures.js';
import type { HeaderMatch, RouteRule } from '../config/runtime-config.js';

const NAME = 'outbound|payments.default:8080';
type Mutable = Record<string, any>;

/** Decodes a route table with one route whose `match` and `route` are given. */
function one(route: Mutable): ReturnType<typeof decodeRouteConfiguration> {
  return decodeRouteConfiguration(wireRoute({ name: NAME, virtualHosts: [{ name: 'vh', domains: ['*'], routes: [route] }] }));
}
function rule(route: Mutable): RouteRule {
  const r = one(route);
  assert.ok(r.ok, !r.ok ? formatProblems(r.error) : '');
  return r.value.virtualHosts[0]!.routes[0]!;
}
const to = { cluster: 'c' };

test('a route table decodes virtual hosts with lower-case domains and ordered routes', () => {
  const r = decodeRouteConfiguration(wireRoute(routeConfig(NAME, [prefixRoute('/api', 'a'), prefixRoute('', 'b')], ['Payments.Default:8080', '*'])));
  assert.ok(r.ok);
  assert.equal(r.value.name, NAME);
  const vh = r.value.virtualHosts[0]!;
  assert.deepEqual(vh.domains, ['payments.default:8080', '*']);
  assert.deepEqual(
    vh.routes.map((x) => [x.name, x.path, x.clusters]),
    [
      ['to-a', { type: 'prefix', value: '/api' }, [{ cluster: 'a', weight: 1 }]],
      ['to-b', { type: 'prefix', value: '' }, [{ cluster: 'b', weight: 1 }]],
    ],
  );
});

test('path, pathSeparatedPrefix and safeRegex map to exact, segment-prefix and regex', () => {
  assert.deepEqual(rule({ match: { path: '/x' }, route: to }).path, { type: 'exact', value: '/x' });
  assert.deepEqual(rule({ match: { pathSeparatedPrefix: '/foo' }, route: to }).path, { type: 'segment-prefix', value: '/foo' });
  const p = rule({ match: { safeRegex: { regex: '/users/[0-9]+' } }, route: to }).path;
  assert.ok(p.type === 'regex');
  assert.ok(p.regex.test('/users/42'));
  assert.ok(!p.regex.test('/users/42/x'), 'RE2 safe_regex matches the whole path');
});

test("a route without timeout gets Envoy's 15 s; an explicit 0 disables it; 2.5 s is 2500 ms", () => {
  assert.equal(rule({ match: { prefix: '/' }, route: to }).timeoutMs, DEFAULT_ROUTE_TIMEOUT_MS);
  assert.equal(rule({ match: { prefix: '/' }, route: { ...to, timeout: {} } }).timeoutMs, 0);
  assert.equal(rule({ match: { prefix: '/' }, route: { ...to, timeout: { seconds: 2, nanos: 500_000_000 } } }).timeoutMs, 2500);
});

test('weighted clusters keep their weights; a zero weight is allowed next to a positive one', () => {
  const r = rule({
    match: { prefix: '/' },
    route: {
      weightedClusters: {
        clusters: [
          { name: 'v1', weight: { value: 90 } },
          { name: 'v2', weight: { value: 0 } },
        ],
      },
    },
  });
  assert.deepEqual(r.clusters, [
    { cluster: 'v1', weight: 90 },
    { cluster: 'v2', weight: 0 },
  ]);
});

test('header matchers: lower-case names, :method, exact, present, prefix and regex', () => {
  const r = rule({
    match: {
      prefix: '/',
      headers: [
        { name: ':method', stringMatch: { exact: 'GET' } },
        { name: 'X-Canary', presentMatch: true },
        { name: 'x-user', stringMatch: { prefix: 'adm', ignoreCase: true } },
        { name: 'x-id', stringMatch: { safeRegex: { regex: '[a-f]{4}' } } },
      ],
    },
    route: to,
  });
  assert.deepEqual(r.headers.slice(0, 2), [
    { name: ':method', match: { type: 'exact', value: 'GET' } },
    { name: 'x-canary', match: { type: 'present' } },
  ]);
  const [, , user, id] = r.headers as [unknown, unknown, HeaderMatch, HeaderMatch];
  assert.ok(user.match.type === 'regex' && user.match.regex.test('ADMIN') && !user.match.regex.test('xadm'));
  assert.ok(id.match.type === 'regex' && id.match.regex.test('beef') && !id.match.regex.test('beefy'));
});

test('a case-insensitive exact header match is a regex that escapes the value', () => {
  const h = rule({ match: { prefix: '/', headers: [{ name: 'x', stringMatch: { exact: 'a.b', ignoreCase: true } }] }, route: to }).headers[0]!;
  assert.ok(h.match.type === 'regex' && h.match.regex.test('A.B') && !h.match.regex.test('aXb'));
});

test('query parameter matchers decode to exact and regex', () => {
  const r = rule({
    match: {
      prefix: '/',
      queryParameters: [
        { name: 'v', stringMatch: { exact: '2' } },
        { name: 'q', stringMatch: { safeRegex: { regex: 'a+' } } },
      ],
    },
    route: to,
  });
  assert.deepEqual(r.query[0], { name: 'v', match: { type: 'exact', value: '2' } });
  const q = r.query[1]!;
  assert.ok(q.match.type === 'regex' && q.match.regex.test('aaa'));
});

test('RE2 named groups (?P<name>), a leading (?i) and POSIX classes are RE2 and match', () => {
  const p = rule({ match: { safeRegex: { regex: '(?i)/(?P<id>[a-z]+)' } }, route: to }).path;
  assert.ok(p.type === 'regex' && p.regex.test('/ABC'));
  const posix = rule({ match: { safeRegex: { regex: '/[[:alpha:]]+' } }, route: to }).path;
  assert.ok(posix.type === 'regex' && posix.regex.test('/abc') && !posix.regex.test('/a1'));
});

test('a header regex that backtracks exponentially in JavaScript is matched in linear time', () => {
  const h = rule({ match: { prefix: '/', headers: [{ name: 'x-evil', stringMatch: { safeRegex: { regex: '(a+)+$' } } }] }, route: to }).headers[0]!;
  assert.ok(h.match.type === 'regex');
  assert.equal(h.match.regex.test('a'.repeat(30_000) + 'b'), false);
  assert.equal(h.match.regex.test('a'.repeat(30_000)), true);
});

const R = 'virtualHosts[0].routes[0]';
const invalid: [string, Mutable, string][] = [
  ['no path specifier', { match: {}, route: to }, `route "${NAME}": ${R}.match: exactly one of prefix, path, pathSeparatedPrefix, safeRegex is required, got none`],
  [
    'two path specifiers',
    { match: { prefix: '/', path: '/x' }, route: to },
    `${R}.match: exactly one of prefix, path, pathSeparatedPrefix, safeRegex is required, got prefix, path`,
  ],
  [
    'a lookbehind regex',
    { match: { safeRegex: { regex: '(?<=/a)b' } }, route: to },
    `${R}.match.safeRegex.regex: "(?<=/a)b" is not an RE2 regular expression: lookbehind (?<= or (?<! is not supported by RE2`,
  ],
  ['a lookahead regex', { match: { safeRegex: { regex: 'a(?!b)' } }, route: to }, 'lookahead (?= or (?! is not supported by RE2'],
  ['a backreference', { match: { safeRegex: { regex: '(a)\\1' } }, route: to }, `${R}.match.safeRegex.regex: "(a)\\\\1" is not an RE2 regular expression: backreferences (\\1`],
  ['an uncompilable regex', { match: { safeRegex: { regex: '/a(' } }, route: to }, `${R}.match.safeRegex.regex: "/a(" is not an RE2 regular expression: missing closing )`],
  ['a possessive quantifier', { match: { safeRegex: { regex: '/a++' } }, route: to }, 'possessive quantifiers (a++) are not supported by RE2'],
  ['a trailing-slash segment prefix', { match: { pathSeparatedPrefix: '/foo/' }, route: to }, `${R}.match.pathSeparatedPrefix: must start with '/'`],
  ['no route action', { match: { prefix: '/' } }, `${R}.route: required`],
  ['a redirect and a route', { match: { prefix: '/' }, route: to, redirect: { hostRedirect: 'x' } }, `${R}: exactly one of route and redirect is required, got both`],
  [
    'a prefix rewrite of an exact match',
    { match: { path: '/a' }, route: { ...to, prefixRewrite: '/v2' } },
    `${R}.route.prefixRewrite: needs a prefix or pathSeparatedPrefix match`,
  ],
  [
    'a header to add with a pseudo-header name',
    { match: { prefix: '/' }, route: to, requestHeadersToAdd: [{ header: { key: ':path', value: '/' } }] },
    `${R}.requestHeadersToAdd[0].header.key: must be a regular header name`,
  ],
  [
    'a response header value with a CR LF in it (it would add a header of its own to every response)',
    { match: { prefix: '/' }, route: to, responseHeadersToAdd: [{ header: { key: 'x-a', value: 'one\r\nset-cookie: stolen=1' } }] },
    `${R}.responseHeadersToAdd[0].header.value: must not hold control characters other than tab`,
  ],
  [
    'a mirror with a cluster header',
    { match: { prefix: '/' }, route: { ...to, requestMirrorPolicies: [{ clusterHeader: 'x' }] } },
    `${R}.route.requestMirrorPolicies[0]: only cluster and runtimeFraction are supported`,
  ],
  ['a host rewrite from a header', { match: { prefix: '/' }, route: { ...to, hostRewriteHeader: 'x-host' } }, `${R}.route.hostRewriteHeader: not supported by Trellis proxy`],
  [
    'neither cluster nor weights',
    { match: { prefix: '/' }, route: { timeout: { seconds: 1 } } },
    `${R}.route: exactly one of cluster and weightedClusters is required, got neither`,
  ],
  [
    'all-zero weights',
    { match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ name: 'a', weight: { value: 0 } }, { name: 'b' }] } } },
    `${R}.route.weightedClusters.clusters: weights must not all be zero`,
  ],
  ['a header matcher without a name', { match: { prefix: '/', headers: [{ presentMatch: true }] }, route: to }, `${R}.match.headers[0].name: required`],
  [
    'a header matcher with nothing to match',
    { match: { prefix: '/', headers: [{ name: 'x' }] }, route: to },
    `${R}.match.headers[0]: exactly one of stringMatch and presentMatch is required, got neither`,
  ],
  [
    'an inverted header match',
    { match: { prefix: '/', headers: [{ name: 'x', presentMatch: true, invertMatch: true }] }, route: to },
    `${R}.match.headers[0].invertMatch: inverted header matches are not supported`,
  ],
  [
    'an empty string matcher',
    { match: { prefix: '/', headers: [{ name: 'x', stringMatch: {} }] }, route: to },
    `${R}.match.headers[0].stringMatch: exactly one of exact, prefix, suffix, contains, safeRegex is required, got none`,
  ],
  [
    'a regex header with lookahead',
    { match: { prefix: '/', headers: [{ name: 'x', stringMatch: { safeRegex: { regex: '(?=a)' } } }] }, route: to },
    `${R}.match.headers[0].stringMatch.safeRegex.regex: "(?=a)" is not an RE2 regular expression: lookahead`,
  ],
  ['a grpc-only match', { match: { prefix: '/', grpc: {} }, route: to }, `${R}.match.grpc: not supported by Trellis proxy`],
];
for (const [what, route, expected] of invalid) {
  test(`a route with ${what} is refused: ${expected}`, () => {
    const r = one(route);
    assert.ok(!r.ok && formatProblems(r.error).includes(expected), !r.ok ? formatProblems(r.error) : 'decoded');
  });
}

test('a domain in two virtual hosts is refused', () => {
  const r = decodeRouteConfiguration(
    wireRoute({
      name: NAME,
      virtualHosts: [
        { name: 'a', domains: ['x'], routes: [] },
        { name: 'b', domains: ['X'], routes: [] },
      ],
    }),
  );
  assert.ok(!r.ok && formatProblems(r.error).includes('virtualHosts[1].domains[0]: domain "x" is already used by virtual host "a"'));
});

test('a virtual host without domains is refused', () => {
  const r = decodeRouteConfiguration(wireRoute({ name: NAME, virtualHosts: [{ name: 'a', routes: [] }] }));
  assert.ok(!r.ok && formatProblems(r.error).includes('virtualHosts[0].domains: required'));
});

test('problems in several routes are all reported', () => {
  const r = decodeRouteConfiguration(
    wireRoute({
      name: NAME,
      virtualHosts: [
        {
          name: 'a',
          domains: ['*'],
          routes: [
            { match: {}, route: to },
            { match: { prefix: '/' }, route: to },
            { match: { safeRegex: { regex: '(' } }, route: {} },
          ],
        },
      ],
    }),
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.error.map((p) => p.path),
    ['virtualHosts[0].routes[0].match', 'virtualHosts[0].routes[2].match.safeRegex.regex', 'virtualHosts[0].routes[2].route'],
  );
});

test('route filters decode: headers, rewrites, redirect, mirrors', () => {
  const r = one({
    match: { pathSeparatedPrefix: '/api' },
    route: { ...to, prefixRewrite: '/v2', hostRewriteLiteral: 'b.internal', requestMirrorPolicies: [{ cluster: 'shadow', runtimeFraction: { defaultValue: { numerator: 25 } } }] },
    requestHeadersToAdd: [{ header: { key: 'X-Env', value: 'prod' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }, { header: { key: 'x-tag', value: 'a' } }],
    requestHeadersToRemove: ['X-Debug'],
    responseHeadersToRemove: ['server'],
  });
  assert.ok(r.ok, !r.ok ? formatProblems(r.error) : '');
  const x = r.value.virtualHosts[0]!.routes[0]!;
  assert.deepEqual(x.rewrite, { prefix: { from: '/api', to: '/v2' }, host: 'b.internal' });
  assert.deepEqual(x.mirrors, [{ cluster: 'shadow', perMillion: 250_000 }]);
  assert.deepEqual(x.requestHeaders, { set: [['x-env', 'prod']], add: [['x-tag', 'a']], remove: ['x-debug'] });
  assert.deepEqual(x.responseHeaders, { set: [], add: [], remove: ['server'] });
  const redirect = one({ match: { pathSeparatedPrefix: '/old' }, redirect: { schemeRedirect: 'https', prefixRewrite: '/new', responseCode: 'FOUND' } });
  assert.ok(redirect.ok, !redirect.ok ? formatProblems(redirect.error) : '');
  const rr = redirect.value.virtualHosts[0]!.routes[0]!;
  assert.deepEqual(rr.redirect, { status: 302, stripQuery: false, scheme: 'https', prefix: { from: '/old', to: '/new' } });
  assert.deepEqual(rr.clusters, []);
  const regex = one({ match: { prefix: '/' }, route: { ...to, regexRewrite: { pattern: { regex: '^/(\\w+)/x$' }, substitution: '/y/\\1' } } });
  assert.ok(regex.ok, !regex.ok ? formatProblems(regex.error) : '');
  const rw = regex.value.virtualHosts[0]!.routes[0]!.rewrite!.regex!;
  assert.equal(rw.regex.replaceAll('/abc/x', rw.substitution), '/y/abc');
});
