import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GRPCRoute, TCPRoute } from '../../api/resource.js';
import { methodPath } from './grpc-routes.js';
import { backend, input, proxy, service } from './test-fixtures.js';
import { translate } from './translate.js';

test('gRPC method matches become path matches', () => {
  assert.deepEqual(methodPath({ type: 'Exact', service: 'pkg.Svc', method: 'Get' }), { type: 'Exact', value: '/pkg.Svc/Get' });
  assert.deepEqual(methodPath({ type: 'Exact', service: 'pkg.Svc' }), { type: 'PathPrefix', value: '/pkg.Svc' });
  assert.deepEqual(methodPath({ type: 'Exact', method: 'Get' }), { type: 'RegularExpression', value: '/[^/]+/Get' });
  assert.deepEqual(methodPath({ type: 'RegularExpression', service: 'pkg\\..*' }), { type: 'RegularExpression', value: '/(?:pkg\\..*)/(?:[^/]+)' });
  assert.deepEqual(methodPath(undefined), { type: 'PathPrefix', value: '/' });
});

test('a GRPCRoute on a grpc Service port routes its methods like an HTTPRoute', () => {
  const grpc = (name: string) => service(name, { ports: [{ port: 9000, appProtocol: 'grpc' }] });
  const route: GRPCRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'g', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'greeter' }],
      rules: [
        { matches: [{ method: { type: 'Exact', service: 'test.Echo', method: 'Unary' } }], backendRefs: [backend('greeter-v2', 9000)] },
        { matches: [], backendRefs: [backend('greeter-v1', 9000)] },
      ],
    },
  };
  const s = translate(
    input({ services: [grpc('greeter'), grpc('greeter-v1'), grpc('greeter-v2')], grpcRoutes: [route] }),
    proxy('c', 'client', { upstreams: [{ service: 'greeter', namespace: 'default', port: 9000, localPort: 9001 }] }),
  );
  const routes = s.routes.get('outbound|greeter.default:9000')!.virtualHosts[0]!.routes;
  assert.deepEqual(
    routes.map((r) => [r.name, r.match, r.route!.cluster]),
    [
      ['default/grpcroute:g/rules[0].matches[0]', { path: '/test.Echo/Unary' }, 'outbound|9000||greeter-v2.default'],
      ['default/grpcroute:g/rules[1].matches[0]', { prefix: '/' }, 'outbound|9000||greeter-v1.default'],
    ],
  );
});

test("regression issue 12: a GRPCRoute rule's header modifiers and mirror become the Envoy route's fields, as an HTTPRoute's", () => {
  const grpc = (name: string) => service(name, { ports: [{ port: 9000, appProtocol: 'grpc' }] });
  const route: GRPCRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'g', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'greeter' }],
      rules: [
        {
          matches: [],
          filters: [
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Tenant', value: 'a' }], remove: ['x-debug'] } },
            { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-via', value: 'mesh' }] } },
            { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'greeter-shadow', port: 9000 }, percent: 10 } },
          ],
          backendRefs: [backend('greeter-v1', 9000)],
        },
      ],
    },
  };
  const s = translate(
    input({ services: [grpc('greeter'), grpc('greeter-v1'), grpc('greeter-shadow')], grpcRoutes: [route] }),
    proxy('c', 'client', { upstreams: [{ service: 'greeter', namespace: 'default', port: 9000, localPort: 9001 }] }),
  );
  const r = s.routes.get('outbound|greeter.default:9000')!.virtualHosts[0]!.routes[0]!;
  assert.deepEqual(r.requestHeadersToAdd, [{ header: { key: 'x-tenant', value: 'a' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
  assert.deepEqual(r.requestHeadersToRemove, ['x-debug']);
  assert.deepEqual(r.responseHeadersToAdd, [{ header: { key: 'x-served-via', value: 'mesh' }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' }]);
  assert.equal(r.route!.requestMirrorPolicies?.[0]?.cluster, 'outbound|9000||greeter-shadow.default');
  assert.deepEqual(s.warnings, []);
});

test('a TCPRoute gives the upstream TCP listener weighted clusters; a missing backend is a warning', () => {
  const tcp = (name: string) => service(name, { ports: [{ port: 5432, appProtocol: 'tcp' }] });
  const route: TCPRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'db', port: 5432 }],
      rules: [{ backendRefs: [backend('db-a', 5432, 90), backend('db-b', 5432, 10), backend('ghost', 5432, 5)] }],
    },
  };
  const s = translate(
    input({ services: [tcp('db'), tcp('db-a'), tcp('db-b')], tcpRoutes: [route] }),
    proxy('c', 'client', { upstreams: [{ service: 'db', namespace: 'default', port: 5432, localPort: 9001 }] }),
  );
  const l = s.listeners.get('outbound|127.0.0.1:9001')!;
  const f = l.filterChains[0]!.filters[0]!;
  assert.equal(f.name, 'envoy.filters.network.tcp_proxy');
  assert.deepEqual((f.typedConfig as { weightedClusters?: unknown }).weightedClusters, {
    clusters: [
      { name: 'outbound|5432||db-a.default', weight: 90 },
      { name: 'outbound|5432||db-b.default', weight: 10 },
    ],
  });
  assert.ok(
    s.warnings.some((w) => w.includes('TCPRoute default/db rules[0].backendRefs[2]: Service default/ghost does not exist')),
    s.warnings.join('\n'),
  );
});
