import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHTTPRoute } from './http-route.js';
import { parseGRPCRoute } from './grpc-route.js';
import { parseTCPRoute } from './tcp-route.js';
import { assertOk, assertProblem, assertRoundTrip, withField } from './problem-assert.js';

const route = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'shop', namespace: 'web' },
  spec: { parentRefs: [{ kind: 'Gateway', name: 'edge', sectionName: 'https' }], hostnames: ['shop.example.com'], rules: [{ backendRefs: [{ name: 'shop', port: 8080 }] }] },
};

test('an HTTPRoute may name a Gateway (group defaulted) and a Service at once', () => {
  const r = assertOk(parseHTTPRoute(withField(route, 'spec.parentRefs[1]', { name: 'shop', port: 8080 })));
  assert.deepEqual(r.spec.parentRefs, [
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', sectionName: 'https' },
    { group: '', kind: 'Service', name: 'shop', port: 8080 },
  ]);
  assertRoundTrip(parseHTTPRoute, r);
});

test('the Gateway API group alone means a Gateway parent', () => {
  const r = assertOk(parseHTTPRoute(withField(route, 'spec.parentRefs[0]', { group: 'gateway.networking.k8s.io', name: 'edge', namespace: 'infra', port: 8443 })));
  assert.deepEqual(r.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', namespace: 'infra', port: 8443 }]);
});

test('a GRPCRoute may name a Gateway', () => {
  const raw = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'greeter' },
    spec: { parentRefs: [{ kind: 'Gateway', name: 'edge' }], rules: [{ backendRefs: [{ name: 'greeter', port: 9000 }] }] },
  };
  assert.equal(assertOk(parseGRPCRoute(raw)).spec.parentRefs[0]!.kind, 'Gateway');
});

const invalid: [string, string, unknown, string, string?][] = [
  ['a Gateway in the core group', 'spec.parentRefs[0].group', '', 'kind "Gateway" needs group "gateway.networking.k8s.io", got group ""', 'spec.parentRefs[0].kind'],
  [
    'a Service in the Gateway API group',
    'spec.parentRefs[0]',
    { group: 'gateway.networking.k8s.io', kind: 'Service', name: 'shop' },
    'group must be "" (the core group)',
    'spec.parentRefs[0].group',
  ],
  ['an unknown parent kind', 'spec.parentRefs[0].kind', 'Mesh', 'must be "Service" (GAMMA, mesh traffic) or "Gateway" (ingress), got "Mesh"'],
  ['a Service sectionName', 'spec.parentRefs[0]', { name: 'shop', sectionName: 'http' }, 'select the Service port with "port" instead', 'spec.parentRefs[0].sectionName'],
  ['a listener name with capitals', 'spec.parentRefs[0].sectionName', 'HTTPS', 'must name a listener of the Gateway'],
  ['a Gateway name with an underscore', 'spec.parentRefs[0].name', 'edge_1', 'must be a DNS-1123 subdomain'],
  ['a bad namespace', 'spec.parentRefs[0].namespace', 'Web', 'must be a DNS-1123 label'],
  ['a misspelt sectionName', 'spec.parentRefs[0].sectionname', 'https', 'did you mean "sectionName"?'],
];
for (const [name, path, value, fragment, at] of invalid) {
  test(`a route with ${name} is refused at ${at ?? path}`, () => assertProblem(parseHTTPRoute(withField(route, path, value)), at ?? path, fragment));
}

test('a TCPRoute still takes Service parents only', () => {
  const raw = {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name: 'db' },
    spec: { parentRefs: [{ kind: 'Gateway', name: 'edge' }], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] },
  };
  assertProblem(parseTCPRoute(raw), 'spec.parentRefs[0].kind', 'only Service parents (GAMMA) are supported');
});
