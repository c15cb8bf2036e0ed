import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONNECT_TIMEOUT_MS, decodeCluster } from './decode-cluster.js';
import { formatProblems } from './errors.js';
import { isStruct } from './decode-fields.js';
import { edsCluster, staticCluster, wireCluster } from './xds-fixtures.js';
import { jsonToStruct } from '../../xds/node-metadata.js';

type Mutable = Record<string, any>;
const NAME = 'outbound|8080||payments.default';

test('an EDS cluster decodes with its service from Trellis metadata and its EDS name', () => {
  const r = decodeCluster(wireCluster(edsCluster(NAME)));
  assert.deepEqual(r, {
    ok: true,
    value: {
      config: { name: NAME, lbPolicy: 'round_robin', connectTimeoutMs: 1000, service: 'payments.default' },
      source: { type: 'eds', edsName: NAME },
    },
  });
});

test('an EDS cluster with a service name reads endpoints under that name', () => {
  const c = edsCluster(NAME) as Mutable;
  c.edsClusterConfig.serviceName = 'payments-eds';
  const r = decodeCluster(wireCluster(c));
  assert.ok(r.ok && r.value.source.type === 'eds' && r.value.source.edsName === 'payments-eds');
});

test('a STATIC inbound cluster carries its endpoints and is named for metrics by its cluster name', () => {
  const c = staticCluster('inbound|3000', 3000) as Mutable;
  c.metadata = { filterMetadata: { trellis: jsonToStruct({ service: 'web', namespace: 'default' }) } };
  const r = decodeCluster(wireCluster(c));
  assert.ok(r.ok);
  assert.equal(r.value.config.service, 'inbound|3000');
  assert.deepEqual(r.value.source, { type: 'static', endpoints: [{ address: '127.0.0.1', port: 3000, healthy: true, weight: 1 }] });
});

test('defaults: no lbPolicy is ROUND_ROBIN, no type is STATIC, no connect timeout is 5 s, no metadata names the cluster', () => {
  const r = decodeCluster(wireCluster({ name: 'x', loadAssignment: { clusterName: 'x', endpoints: [] } }));
  assert.ok(r.ok);
  assert.deepEqual(r.value.config, { name: 'x', lbPolicy: 'round_robin', connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, service: 'x' });
  assert.deepEqual(r.value.source, { type: 'static', endpoints: [] });
});

test('LEAST_REQUEST maps to least_request', () => {
  const r = decodeCluster(wireCluster({ ...edsCluster(NAME), lbPolicy: 'LEAST_REQUEST' }));
  assert.ok(r.ok && r.value.config.lbPolicy === 'least_request');
});

test('plain-JSON Trellis metadata (built in memory, not from the wire) is read too', () => {
  const r = decodeCluster({ ...edsCluster(NAME), metadata: { filterMetadata: { trellis: { service: 'orders', namespace: 'shop' } } } });
  assert.ok(r.ok && r.value.config.service === 'orders.shop');
});

const invalid: [string, Mutable, string][] = [
  [
    'CLUSTER_PROVIDED',
    { ...edsCluster(NAME), lbPolicy: 'CLUSTER_PROVIDED' },
    `cluster "${NAME}": lbPolicy: "CLUSTER_PROVIDED" is not supported by Trellis proxy (supported: ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH)`,
  ],
  ['MAGLEV', { ...edsCluster(NAME), lbPolicy: 'MAGLEV' }, 'lbPolicy: "MAGLEV" is not supported by Trellis proxy'],
  ['LOGICAL_DNS', { name: 'x', type: 'LOGICAL_DNS' }, 'cluster "x": type: "LOGICAL_DNS" is not supported by Trellis proxy (supported: EDS, STATIC, STRICT_DNS, ORIGINAL_DST)'],
  ['STRICT_DNS without endpoints', { name: 'x', type: 'STRICT_DNS' }, 'cluster "x": loadAssignment: required'],
  ['STATIC without endpoints', { name: 'x', type: 'STATIC' }, 'cluster "x": loadAssignment: required'],
  ['EDS without eds config', { name: 'x', type: 'EDS' }, 'cluster "x": edsClusterConfig: required'],
  ['EDS not over ADS', { name: 'x', type: 'EDS', edsClusterConfig: { edsConfig: { path: '/x' } } }, 'edsClusterConfig.edsConfig: must be { ads: {} }'],
  [
    'a static endpoint with a host name',
    { name: 'x', loadAssignment: { clusterName: 'x', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: 'app', portValue: 1 } } } }] }] } },
    'cluster "x": loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address: must be an IP address literal, got "app"',
  ],
  ['no name', { type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} } } }, 'cluster #0: name: required'],
  [
    'a non-string service in metadata',
    { ...edsCluster(NAME), metadata: { filterMetadata: { trellis: jsonToStruct({ service: 5, namespace: 'x' }) } } },
    'metadata.filterMetadata.trellis.service: must be a string, got 5',
  ],
];
for (const [what, cluster, expected] of invalid) {
  test(`a cluster with ${what} is refused: ${expected}`, () => {
    const r = decodeCluster(wireCluster(cluster));
    assert.ok(!r.ok && formatProblems(r.error).includes(expected), !r.ok ? formatProblems(r.error) : 'decoded');
  });
}

test('isStruct tells decoded Struct metadata from plain JSON', () => {
  assert.equal(isStruct(jsonToStruct({ service: 'x' })), true);
  assert.equal(isStruct({ service: 'x' }), false);
  assert.equal(isStruct({ fields: { a: 1 } }), false);
});
