import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHTTPRoute } from './http-route.js';
import { assertOk, assertProblem, assertRoundTrip, DELETE, withField } from './problem-assert.js';

const canary = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'payments-canary' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'payments', port: 8080 }],
    rules: [
      {
        backendRefs: [
          { name: 'payments-v1', port: 8080, weight: 90 },
          { name: 'payments-v2', port: 8080, weight: 10 },
        ],
      },
    ],
  },
};

test('a canary route gets the default match and keeps its weights', () => {
  assert.deepEqual(assertOk(parseHTTPRoute(canary)), {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'payments-canary', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'payments', port: 8080 }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { group: '', kind: 'Service', name: 'payments-v1', port: 8080, weight: 90 },
            { group: '', kind: 'Service', name: 'payments-v2', port: 8080, weight: 10 },
          ],
        },
      ],
    },
  });
});

test('a route without rules gets one rule matching every path, with no backends', () => {
  const r = assertOk(parseHTTPRoute(withField(canary, 'spec.rules', DELETE)));
  assert.deepEqual(r.spec.rules, [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [] }]);
});

test('group and kind default to the core Service; group "core" is written ""', () => {
  const raw = withField(withField(canary, 'spec.parentRefs', [{ group: 'core', name: 'payments' }]), 'spec.rules[0].backendRefs', [{ name: 'payments-v1', port: 8080 }]);
  const r = assertOk(parseHTTPRoute(raw));
  assert.deepEqual(r.spec.parentRefs, [{ group: '', kind: 'Service', name: 'payments' }]);
  assert.deepEqual(r.spec.rules[0]!.backendRefs, [{ group: '', kind: 'Service', name: 'payments-v1', port: 8080, weight: 1 }]);
});

test('v1beta1 is accepted and written as v1', () => {
  assert.equal(assertOk(parseHTTPRoute(withField(canary, 'apiVersion', 'gateway.networking.k8s.io/v1beta1'))).apiVersion, 'gateway.networking.k8s.io/v1');
});

test('hostnames, rule names, namespaces and weight 0 are kept', () => {
  let raw = withField(canary, 'spec.hostnames', ['payments.example.com']);
  raw = withField(raw, 'spec.rules[0].name', 'split');
  raw = withField(raw, 'spec.parentRefs[0].namespace', 'shop');
  raw = withField(raw, 'spec.rules[0].backendRefs[1].weight', 0);
  const r = assertOk(parseHTTPRoute(raw));
  assert.deepEqual(r.spec.hostnames, ['payments.example.com']);
  assert.equal(r.spec.rules[0]!.name, 'split');
  assert.equal(r.spec.parentRefs[0]!.namespace, 'shop');
  assert.equal(r.spec.rules[0]!.backendRefs[1]!.weight, 0);
});

test('a parsed route survives a YAML round trip unchanged', () => {
  const raw = withField(canary, 'spec.rules[1]', {
    matches: [
      {
        path: { type: 'Exact', value: '/health' },
        headers: [{ name: 'x-canary', value: 'true' }],
        queryParams: [{ type: 'RegularExpression', name: 'v', value: '^2$' }],
        method: 'GET',
      },
    ],
    backendRefs: [{ name: 'payments-v2', port: 8080 }],
  });
  assertRoundTrip(parseHTTPRoute, assertOk(parseHTTPRoute(raw)));
});

const many = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
const invalid: [string, string, unknown, string][] = [
  ['an unknown apiVersion', 'apiVersion', 'gateway.networking.k8s.io/v2', 'must be "gateway.networking.k8s.io/v1" or "gateway.networking.k8s.io/v1beta1" for kind HTTPRoute'],
  ['a name that is not a DNS subdomain', 'metadata.name', 'Canary_1', 'must be a DNS-1123 subdomain'],
  ['no parentRefs', 'spec.parentRefs', DELETE, 'required'],
  ['empty parentRefs', 'spec.parentRefs', [], 'must have at least 1 item(s), got 0'],
  ['a Gateway parent in the core group', 'spec.parentRefs[0].kind', 'Gateway', 'kind "Gateway" needs group "gateway.networking.k8s.io", got group ""'],
  ['a Service parent in the Gateway API group', 'spec.parentRefs[0].group', 'gateway.networking.k8s.io', 'a Service parent\'s group must be "" (the core group)'],
  ['a parent without a name', 'spec.parentRefs[0].name', DELETE, 'required'],
  ['a parent port 0', 'spec.parentRefs[0].port', 0, 'must be >= 1, got 0'],
  ['a parent sectionName', 'spec.parentRefs[0].sectionName', 'http', 'select the Service port with "port" instead'],
  ['an IP hostname', 'spec.hostnames[0]', '10.1.2.3', 'not an IP address'],
  ['17 hostnames', 'spec.hostnames', many(17, (i) => `h${i}.example.com`), 'must have at most 16 item(s), got 17'],
  ['17 rules', 'spec.rules', many(17, () => ({})), 'must have at most 16 item(s), got 17'],
  ['9 matches', 'spec.rules[0].matches', many(9, () => ({})), 'must have at most 8 item(s), got 9'],
  ['17 backendRefs', 'spec.rules[0].backendRefs', many(17, (i) => ({ name: `b${i}`, port: 80 })), 'must have at most 16 item(s), got 17'],
  ['a negative weight', 'spec.rules[0].backendRefs[1].weight', -1, 'must be >= 0, got -1'],
  ['a weight over 1000000', 'spec.rules[0].backendRefs[0].weight', 1_000_001, 'must be <= 1000000, got 1000001'],
  ['a fractional weight', 'spec.rules[0].backendRefs[0].weight', 0.5, 'must be an integer, got 0.5'],
  ['a backend without a port', 'spec.rules[0].backendRefs[0].port', DELETE, 'required: the port of the backend Service'],
  ['a backend without a name', 'spec.rules[0].backendRefs[0].name', DELETE, 'required'],
  ['a backend name with capitals', 'spec.rules[0].backendRefs[0].name', 'Payments', 'must be a DNS-1123 label'],
  ['a non-Service backend', 'spec.rules[0].backendRefs[0].kind', 'ServiceImport', 'only Service backends are supported'],
  ['a misspelt weight', 'spec.rules[0].backendRefs[0].weigth', 5, 'unknown field "weigth" (did you mean "weight"?)'],
  ['backend filters', 'spec.rules[0].backendRefs[0].filters', [], 'not supported'],
  ['an unknown filter type', 'spec.rules[0].filters[0].type', 'CORS', 'must be one of'],
  ['a timeout that is not a duration', 'spec.rules[0].timeouts.request', '10', 'must be a duration such as "500ms"'],
  ['too many retry attempts', 'spec.rules[0].retry.attempts', 11, 'must be <= 10, got 11'],
  ['a retry code that is not an error status', 'spec.rules[0].retry.codes[0]', 200, 'must be >= 400, got 200'],
  ['a misspelt retry field', 'spec.rules[0].retry.attempt', 2, 'did you mean "attempts"?'],
  ['a bad match deep in a rule', 'spec.rules[0].matches[0].path.value', '/a/', 'must not end with "/"'],
  ['a typo in spec', 'spec.rule', [], 'did you mean "rules"?'],
];
for (const [name, path, value, fragment] of invalid) {
  test(`refuses ${name} at ${path}`, () => assertProblem(parseHTTPRoute(withField(canary, path, value)), path, fragment));
}

test('timeouts and retry (GEP-1731) are kept as written', () => {
  const raw = withField(withField(canary, 'spec.rules[0].timeouts', { request: '10s', backendRequest: '2s' }), 'spec.rules[0].retry', {
    codes: [503, 502],
    attempts: 2,
    backoff: '100ms',
  });
  const r = assertOk(parseHTTPRoute(raw));
  assert.deepEqual(r.spec.rules[0]!.timeouts, { request: '10s', backendRequest: '2s' });
  assert.deepEqual(r.spec.rules[0]!.retry, { codes: [503, 502], attempts: 2, backoff: '100ms' });
  assertRoundTrip(parseHTTPRoute, r);
});

test('refuses a backendRequest timeout longer than the request timeout', () => {
  const raw = withField(canary, 'spec.rules[0].timeouts', { request: '1s', backendRequest: '2s' });
  assertProblem(parseHTTPRoute(raw), 'spec.rules[0].timeouts.backendRequest', 'must not be longer than request (1s), got "2s"');
});

test('filters: header modifiers, mirror, rewrite and redirect keep only their own field', () => {
  const filters = [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-env', value: 'prod' }], remove: ['x-debug'] } },
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served', value: 'mesh' }] } },
    { type: 'RequestMirror', requestMirror: { backendRef: { name: 'payments-shadow', port: 8080 }, percent: 50 } },
    { type: 'URLRewrite', urlRewrite: { hostname: 'payments.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
  ];
  const r = assertOk(parseHTTPRoute(withField(canary, 'spec.rules[0].filters', filters)));
  assert.deepEqual(r.spec.rules[0]!.filters, [
    filters[0],
    filters[1],
    { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'payments-shadow', port: 8080 }, percent: 50 } },
    filters[3],
  ]);
  assertRoundTrip(parseHTTPRoute, r);
  const redirect = assertOk(parseHTTPRoute(withField(canary, 'spec.rules[0].filters', [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }])));
  assert.deepEqual(redirect.spec.rules[0]!.filters, [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 302 } }]);
});

test('refuses a header modifier value with a line break or another control character in it', () => {
  const at = (value: string) =>
    parseHTTPRoute(withField(canary, 'spec.rules[0].filters', [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-a', value }] } }]));
  for (const value of ['one\r\nset-cookie: stolen=1', 'bare\nlf', 'nul\0']) {
    assertProblem(at(value), 'spec.rules[0].filters[0].responseHeaderModifier.set[0].value', 'must not hold control characters other than tab');
  }
  assertOk(at('a\ttab is fine'));
});

test("refuses a filter without its field, with another type's field, twice, or a redirect with a rewrite", () => {
  const at = (filters: unknown[]) => parseHTTPRoute(withField(canary, 'spec.rules[0].filters', filters));
  assertProblem(at([{ type: 'RequestHeaderModifier' }]), 'spec.rules[0].filters[0].requestHeaderModifier', 'required for type RequestHeaderModifier');
  assertProblem(at([{ type: 'URLRewrite', urlRewrite: {}, requestRedirect: {} }]), 'spec.rules[0].filters[0].requestRedirect', 'does not go with type URLRewrite');
  const mod = { type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['x'] } };
  assertProblem(at([mod, mod]), 'spec.rules[0].filters[1].type', 'a second RequestHeaderModifier filter (already filters[0])');
  assertProblem(
    at([
      { type: 'RequestRedirect', requestRedirect: {} },
      { type: 'URLRewrite', urlRewrite: {} },
    ]),
    'spec.rules[0].filters[1].type',
    'RequestRedirect and URLRewrite cannot be in the same rule',
  );
  assertProblem(
    at([{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath' } } }]),
    'spec.rules[0].filters[0].urlRewrite.path.replaceFullPath',
    'required for type ReplaceFullPath',
  );
  assertProblem(
    at([{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow' } } }]),
    'spec.rules[0].filters[0].requestMirror.backendRef.port',
    'required: the port of the mirror Service',
  );
});

test('refuses two rules with the same name', () => {
  const raw = withField(withField(canary, 'spec.rules[0].name', 'a'), 'spec.rules[1]', { name: 'a' });
  assertProblem(parseHTTPRoute(raw), 'spec.rules[1].name', 'duplicate rule name "a", already used by rules[0]');
});

test('reports problems in several rules and backends at once', () => {
  let raw = withField(canary, 'spec.rules[0].backendRefs[0].weight', -1);
  raw = withField(raw, 'spec.rules[0].backendRefs[1].port', DELETE);
  raw = withField(raw, 'spec.rules[1]', { matches: [{ method: 'FETCH' }] });
  const r = parseHTTPRoute(raw);
  assertProblem(r, 'spec.rules[0].backendRefs[0].weight', 'got -1');
  assertProblem(r, 'spec.rules[0].backendRefs[1].port', 'required');
  assertProblem(r, 'spec.rules[1].matches[0].method', 'got "FETCH"');
});
