// HTTPRoutes attached to a Service (GAMMA): weights, backends, precedence, 404 semantics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HTTPRoute, Service } from '../../api/resource.js';
import type { Route } from '../../xds/envoy-types.js';
import { checkSnapshot } from './consistency.js';
import { backend, httpRoute, input, proxy, service } from './test-fixtures.js';
import { translate } from './translate.js';

const T0 = { seconds: 0 };

/** The routes a client in `callerNs` gets for echo.default:8080, plus the snapshot's warnings. */
function echoRoutes(services: Service[], httpRoutes: HTTPRoute[], callerNs = 'default'): { routes: Route[]; warnings: readonly string[] } {
  const p = proxy('client-1', 'client', { namespace: callerNs, upstreams: [{ service: 'echo', namespace: 'default', port: 8080, localPort: 9001 }] });
  const s = translate(input({ services, httpRoutes }), p);
  assert.deepEqual(checkSnapshot(s), []);
  return { routes: s.routes.get('outbound|echo.default:8080')!.virtualHosts[0]!.routes, warnings: s.warnings };
}

const three = () => [service('echo'), service('echo-v1', { selector: { app: 'echo', version: 'v1' } }), service('echo-v2', { selector: { app: 'echo', version: 'v2' } })];

test('without an HTTPRoute, every request goes to the Service itself', () => {
  const { routes } = echoRoutes(three(), []);
  assert.deepEqual(routes, [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'outbound|8080||echo.default', timeout: T0 } }]);
});

test('a weighted HTTPRoute splits between backends with UInt32Value weights', () => {
  const { routes } = echoRoutes(three(), [httpRoute('split', [{ name: 'echo' }], [{ backendRefs: [backend('echo-v1', 8080, 90), backend('echo-v2', 8080, 10)] }])]);
  assert.deepEqual(routes, [
    {
      name: 'default/split/rules[0].matches[0]',
      match: { prefix: '/' },
      route: {
        weightedClusters: {
          clusters: [
            { name: 'outbound|8080||echo-v1.default', weight: { value: 90 } },
            { name: 'outbound|8080||echo-v2.default', weight: { value: 10 } },
          ],
        },
        timeout: T0,
      },
    },
  ]);
});

test('a single backend, or only one with a weight above 0, becomes a plain cluster', () => {
  for (const backendRefs of [[backend('echo-v1')], [backend('echo-v1', 8080, 100), backend('echo-v2', 8080, 0)]]) {
    const { routes } = echoRoutes(three(), [httpRoute('r', [{ name: 'echo' }], [{ backendRefs }])]);
    assert.deepEqual(routes[0]!.route, { cluster: 'outbound|8080||echo-v1.default', timeout: T0 });
  }
});

test('the same backend twice gets the sum of its weights', () => {
  const { routes } = echoRoutes(three(), [
    httpRoute('r', [{ name: 'echo' }], [{ backendRefs: [backend('echo-v1', 8080, 1), backend('echo-v2', 8080, 1), backend('echo-v1', 8080, 2)] }]),
  ]);
  assert.deepEqual(
    routes[0]!.route!.weightedClusters?.clusters.map((c) => [c.name, c.weight.value]),
    [
      ['outbound|8080||echo-v1.default', 3],
      ['outbound|8080||echo-v2.default', 1],
    ],
  );
});

test('with an HTTPRoute attached, a request that matches no rule has no route (404)', () => {
  const { routes } = echoRoutes(three(), [httpRoute('r', [{ name: 'echo' }], [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [backend('echo-v1')] }])]);
  assert.deepEqual(
    routes.map((r) => r.match),
    [{ pathSeparatedPrefix: '/api' }],
  );
});

test('an HTTPRoute attached to another port of the Service does not apply', () => {
  const services = [service('echo', { ports: [{ port: 8080 }, { port: 9090 }] }), service('echo-v1')];
  const { routes } = echoRoutes(services, [httpRoute('r', [{ name: 'echo', port: 9090 }], [{ backendRefs: [backend('echo-v1')] }])]);
  assert.equal(routes[0]!.name, 'default');
});

test('a parentRef in another namespace, or naming another Service, does not attach', () => {
  const { routes } = echoRoutes(three(), [
    httpRoute('a', [{ name: 'echo', namespace: 'other' }], [{ backendRefs: [backend('echo-v1')] }]),
    httpRoute('b', [{ name: 'echo-v1' }], [{ backendRefs: [backend('echo-v1')] }]),
  ]);
  assert.equal(routes[0]!.name, 'default');
});

test('a backend that does not exist is left out with a warning; the others keep their weights', () => {
  const { routes, warnings } = echoRoutes(three(), [
    httpRoute('r', [{ name: 'echo' }], [{ backendRefs: [backend('echo-v1', 8080, 5), backend('echo-v3', 8080, 5), backend('echo-v2', 9999, 5)] }]),
  ]);
  assert.deepEqual(routes[0]!.route, { cluster: 'outbound|8080||echo-v1.default', timeout: T0 });
  assert.deepEqual(warnings, [
    'HTTPRoute default/r rules[0].backendRefs[1]: Service default/echo-v3 does not exist; that backend gets no traffic',
    'HTTPRoute default/r rules[0].backendRefs[2]: Service echo-v2.default has no port 9999 (it has 8080); that backend gets no traffic',
  ]);
});

test('a rule with no valid backend is dropped with a warning, so its requests fall through', () => {
  const { routes, warnings } = echoRoutes(three(), [
    httpRoute(
      'r',
      [{ name: 'echo' }],
      [
        { matches: [{ path: { type: 'PathPrefix', value: '/gone' } }], backendRefs: [backend('nope')] },
        { matches: [{ path: { type: 'PathPrefix', value: '/zero' } }], backendRefs: [backend('echo-v1', 8080, 0)] },
        { backendRefs: [backend('echo-v2')] },
      ],
    ),
  ]);
  assert.deepEqual(
    routes.map((r) => r.name),
    ['default/r/rules[2].matches[0]'],
  );
  assert.ok(warnings.includes('HTTPRoute default/r rules[0]: has no backend that exists with a weight above 0; the rule is left out'));
  assert.ok(warnings.includes('HTTPRoute default/r rules[1]: has no backend that exists with a weight above 0; the rule is left out'));
});

test("a backendRef without a namespace is in the route's namespace", () => {
  const services = [service('echo'), service('echo-v1', { namespace: 'prod' })];
  const { routes } = echoRoutes(services, [httpRoute('r', [{ name: 'echo', namespace: 'default' }], [{ backendRefs: [backend('echo-v1')] }], { namespace: 'prod' })], 'prod');
  assert.deepEqual(routes[0]!.route!.cluster, 'outbound|8080||echo-v1.prod');
});

test("a consumer route (in the caller's namespace) replaces producer routes for that caller only", () => {
  const services = [...three(), service('echo-v1', { namespace: 'team' })];
  const httpRoutes = [
    httpRoute('producer', [{ name: 'echo' }], [{ backendRefs: [backend('echo-v2')] }]),
    httpRoute('consumer', [{ name: 'echo', namespace: 'default' }], [{ backendRefs: [backend('echo-v1')] }], { namespace: 'team' }),
  ];
  assert.equal(echoRoutes(services, httpRoutes, 'team').routes[0]!.route!.cluster, 'outbound|8080||echo-v1.team');
  assert.equal(echoRoutes(services, httpRoutes, 'default').routes[0]!.route!.cluster, 'outbound|8080||echo-v2.default');
  assert.equal(echoRoutes(services, httpRoutes, 'elsewhere').routes[0]!.route!.cluster, 'outbound|8080||echo-v2.default');
});

test('matches translate to Envoy: exact, prefix, regex, headers, method and query parameters', () => {
  const rules = [
    {
      matches: [
        { path: { type: 'Exact' as const, value: '/exact' } },
        { path: { type: 'PathPrefix' as const, value: '/pre/' }, method: 'POST' },
        {
          path: { type: 'RegularExpression' as const, value: '/re/[0-9]+' },
          headers: [
            { type: 'Exact' as const, name: 'X-Env', value: 'canary' },
            { type: 'RegularExpression' as const, name: 'X-Id', value: 'a.*' },
          ],
        },
        {
          queryParams: [
            { type: 'Exact' as const, name: 'Debug', value: '1' },
            { type: 'RegularExpression' as const, name: 'q', value: '^x' },
          ],
        },
      ],
      backendRefs: [backend('echo-v1')],
    },
  ];
  const { routes } = echoRoutes(three(), [httpRoute('r', [{ name: 'echo' }], rules)]);
  assert.deepEqual(
    routes.map((r) => r.match),
    [
      { path: '/exact' },
      {
        safeRegex: { regex: '/re/[0-9]+' },
        headers: [
          { name: 'x-env', stringMatch: { exact: 'canary' } },
          { name: 'x-id', stringMatch: { safeRegex: { regex: 'a.*' } } },
        ],
      },
      { pathSeparatedPrefix: '/pre', headers: [{ name: ':method', stringMatch: { exact: 'POST' } }] },
      {
        prefix: '/',
        queryParameters: [
          { name: 'Debug', stringMatch: { exact: '1' } },
          { name: 'q', stringMatch: { safeRegex: { regex: '^x' } } },
        ],
      },
    ],
  );
});

test('rules are ordered by Gateway API precedence across routes', () => {
  const r = (name: string, created: string, matches: HTTPRoute['spec']['rules'][number]['matches'][]) =>
    httpRoute(
      name,
      [{ name: 'echo' }],
      matches.map((m) => ({ matches: m, backendRefs: [backend('echo-v1')] })),
      { created },
    );
  const { routes } = echoRoutes(three(), [
    r('b-newer', '2026-01-02T00:00:00Z', [
      [{ path: { type: 'PathPrefix', value: '/' } }],
      [{ path: { type: 'PathPrefix', value: '/api' } }],
      [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ type: 'Exact', name: 'a', value: '1' }] }],
    ]),
    r('a-older', '2026-01-01T00:00:00Z', [
      [{ path: { type: 'PathPrefix', value: '/api' } }],
      [{ path: { type: 'PathPrefix', value: '/api/v1' } }],
      [{ path: { type: 'Exact', value: '/x' } }],
      [{ path: { type: 'PathPrefix', value: '/api' }, method: 'GET' }],
      [{ path: { type: 'RegularExpression', value: '/r.*' } }],
    ]),
    r('c-same-age', '2026-01-01T00:00:00Z', [[{ path: { type: 'PathPrefix', value: '/api' } }]]),
  ]);
  assert.deepEqual(
    routes.map((x) => x.name),
    [
      'default/a-older/rules[2].matches[0]', // Exact
      'default/a-older/rules[4].matches[0]', // regular expression
      'default/a-older/rules[1].matches[0]', // longest prefix
      'default/a-older/rules[3].matches[0]', // /api with a method
      'default/b-newer/rules[2].matches[0]', // /api with a header
      'default/a-older/rules[0].matches[0]', // /api: oldest route
      'default/c-same-age/rules[0].matches[0]', // /api: same age, name after a-older
      'default/b-newer/rules[1].matches[0]', // /api: newest route
      'default/b-newer/rules[0].matches[0]', // catch-all last
    ],
  );
});

test('a rule without matches matches every path', () => {
  const { routes } = echoRoutes(three(), [httpRoute('r', [{ name: 'echo' }], [{ backendRefs: [backend('echo-v1')] }])]);
  assert.deepEqual(routes[0]!.match, { prefix: '/' });
});
