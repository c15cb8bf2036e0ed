import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGRPCRoute } from './grpc-route.js';
import { parseTCPRoute } from './tcp-route.js';
import { assertOk, assertProblem, assertRoundTrip, withField } from './problem-assert.js';

const grpcRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GRPCRoute',
  metadata: { name: 'greeter' },
  spec: {
    parentRefs: [{ name: 'greeter', port: 9000 }],
    rules: [{ matches: [{ method: { service: 'test.Echo', method: 'Unary' } }], backendRefs: [{ name: 'greeter-v2', port: 9000 }] }],
  },
};
const tcpRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1alpha2',
  kind: 'TCPRoute',
  metadata: { name: 'db' },
  spec: {
    parentRefs: [{ name: 'db', port: 5432 }],
    rules: [
      {
        backendRefs: [
          { name: 'db-a', port: 5432, weight: 90 },
          { name: 'db-b', port: 5432, weight: 10 },
        ],
      },
    ],
  },
};

test('a GRPCRoute parses with Exact method matches by default', () => {
  const r = assertOk(parseGRPCRoute(grpcRoute));
  assert.deepEqual(r.spec.rules[0]!.matches, [{ method: { type: 'Exact', service: 'test.Echo', method: 'Unary' } }]);
  assert.deepEqual(r.spec.rules[0]!.backendRefs, [{ group: '', kind: 'Service', name: 'greeter-v2', port: 9000, weight: 1 }]);
  assertRoundTrip(parseGRPCRoute, r);
});

test('a GRPCRoute refuses a method match with neither service nor method, a bad name', () => {
  assertProblem(parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].matches[0].method', {})), 'spec.rules[0].matches[0].method', 'set service, method or both');
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].matches[0].method.service', 'test/Echo')),
    'spec.rules[0].matches[0].method.service',
    'must be a gRPC service name',
  );
});

test('regression issue 12: a GRPCRoute takes the header modifier and mirror filters, and refuses the others naming the filter', () => {
  const filters = [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-tenant', value: 'a' }], remove: ['x-debug'], add: [] } },
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-via', value: 'mesh' }] } },
    { type: 'RequestMirror', requestMirror: { backendRef: { name: 'greeter-shadow', port: 9000 }, percent: 10 } },
  ];
  const r = assertOk(parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', filters)));
  assert.deepEqual(r.spec.rules[0]!.filters, [
    { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-tenant', value: 'a' }], remove: ['x-debug'] } },
    { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-via', value: 'mesh' }] } },
    { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'greeter-shadow', port: 9000 }, percent: 10 } },
  ]);
  assertRoundTrip(parseGRPCRoute, r);
  assert.equal(assertOk(parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', []))).spec.rules[0]!.filters, undefined);

  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', [{ type: 'URLRewrite', urlRewrite: { hostname: 'x' } }])),
    'spec.rules[0].filters[0].type',
    '"URLRewrite" is not a GRPCRoute filter; expected RequestHeaderModifier, ResponseHeaderModifier or RequestMirror',
  );
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', [{ type: 'RequestRedirect', requestRedirect: { hostname: 'x' } }])),
    'spec.rules[0].filters[0].type',
    '"RequestRedirect" is not a GRPCRoute filter',
  );
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', [{ type: 'ExtensionRef', extensionRef: {} }])),
    'spec.rules[0].filters[0].type',
    '"ExtensionRef" is not a GRPCRoute filter',
  );
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', [filters[0], filters[0]])),
    'spec.rules[0].filters[1].type',
    'a second RequestHeaderModifier filter (already filters[0]); at most one per rule',
  );
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: 'a\r\nb' }] } }])),
    'spec.rules[0].filters[0].requestHeaderModifier.set[0].value',
    'control character',
  );
});

test('a TCPRoute parses its weighted backends and refuses a second rule', () => {
  const r = assertOk(parseTCPRoute(tcpRoute));
  assert.deepEqual(
    r.spec.rules[0]!.backendRefs.map((b) => [b.name, b.weight]),
    [
      ['db-a', 90],
      ['db-b', 10],
    ],
  );
  assertRoundTrip(parseTCPRoute, r);
  assertProblem(parseTCPRoute(withField(tcpRoute, 'spec.rules[1]', { backendRefs: [{ name: 'x', port: 1 }] })), 'spec.rules', 'must have exactly 1 rule');
  assertProblem(parseTCPRoute(withField(tcpRoute, 'apiVersion', 'gateway.networking.k8s.io/v1')), 'apiVersion', 'must be "gateway.networking.k8s.io/v1alpha2"');
});
