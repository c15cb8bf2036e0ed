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

test('a GRPCRoute refuses a method match with neither service nor method, a bad name, filters', () => {
  assertProblem(parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].matches[0].method', {})), 'spec.rules[0].matches[0].method', 'set service, method or both');
  assertProblem(
    parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].matches[0].method.service', 'test/Echo')),
    'spec.rules[0].matches[0].method.service',
    'must be a gRPC service name',
  );
  assertProblem(parseGRPCRoute(withField(grpcRoute, 'spec.rules[0].filters', [])), 'spec.rules[0].filters', 'GRPCRoute filters are not implemented');
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
