// Versions: stable for unchanged config, and only the changed type moves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import { backend, httpRoute, input, proxy, service, workload } from './test-fixtures.js';
import { translate } from './translate.js';
import { canonicalJson } from './versions.js';

const client = () => proxy('client-1', 'client', { upstreams: [{ service: 'echo', namespace: 'default', port: 8080, localPort: 9001 }], httpProxyPort: 15001 });
const base = (weight = 50) => ({
  services: [service('echo'), service('echo-v1', { selector: { app: 'echo', version: 'v1' } }), service('echo-v2', { selector: { app: 'echo', version: 'v2' } })],
  httpRoutes: [httpRoute('split', [{ name: 'echo' }], [{ backendRefs: [backend('echo-v1', 8080, 100 - weight), backend('echo-v2', 8080, weight)] }])],
  workloads: [workload('e1', 'echo', { labels: { version: 'v1' } }), workload('e2', 'echo', { labels: { version: 'v2' }, address: '10.0.0.2' })],
});

/** Which type URLs have a different version between two inputs. */
function changed(a: Parameters<typeof input>[0], b: Parameters<typeof input>[0]): string[] {
  const va = translate(input(a), client()).versions;
  const vb = translate(input(b), client()).versions;
  return [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE].filter((t) => va[t] !== vb[t]).map((t) => t.split('.').pop()!);
}

test('equal inputs built anew give the same versions', () => {
  assert.deepEqual(changed(base(), base()), []);
});

test('the order of Services, routes and workloads in the input does not change versions', () => {
  const b = base();
  assert.deepEqual(changed(base(), { services: [...b.services].reverse(), httpRoutes: b.httpRoutes, workloads: [...b.workloads].reverse() }), []);
});

test('a changed HTTPRoute weight changes only the route version', () => {
  assert.deepEqual(changed(base(50), base(10)), ['RouteConfiguration']);
});

test('a workload disconnecting changes only the endpoint version', () => {
  const b = base();
  assert.deepEqual(changed(base(), { ...b, workloads: [b.workloads[0]!, { ...b.workloads[1]!, connected: false }] }), ['ClusterLoadAssignment']);
});

test('a new Service changes clusters, endpoints and the HTTP proxy routes, not listeners', () => {
  const b = base();
  assert.deepEqual(changed(base(), { ...b, services: [...b.services, service('new')] }), ['Cluster', 'ClusterLoadAssignment', 'RouteConfiguration']);
});

test('a MeshConfig change of load balancer changes only clusters', () => {
  assert.deepEqual(changed(base(), { ...base(), meshConfig: { loadBalancer: 'LeastRequest' } }), ['Cluster']);
});

test("a workload's lastSeen does not change any version", () => {
  const b = base();
  assert.deepEqual(changed(base(), { ...b, workloads: b.workloads.map((w) => ({ ...w, lastSeen: '2030-01-01T00:00:00.000Z' })) }), []);
});

test('canonical JSON sorts keys at every level and drops undefined fields', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: undefined } }), '{"a":{"d":[2,{"y":null,"z":1}]},"b":1}');
});
