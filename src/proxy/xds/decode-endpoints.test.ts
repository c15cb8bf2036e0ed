import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeClusterLoadAssignment } from './decode-endpoints.js';
import { formatProblems } from './errors.js';
import { jsonToStruct } from '../../xds/node-metadata.js';
import { wireCla } from './xds-fixtures.js';

type Mutable = Record<string, any>;
const NAME = 'outbound|8080||payments.default';
const ep = (address: string, portValue: number, extra: Mutable = {}): Mutable => ({ endpoint: { address: { socketAddress: { address, portValue } } }, ...extra });
const decode = (lbEndpoints: Mutable[]) => decodeClusterLoadAssignment(wireCla({ clusterName: NAME, endpoints: [{ lbEndpoints }] }));

test('endpoints decode with health, weight and workload', () => {
  const r = decode([
    ep('10.0.0.1', 15006, {
      healthStatus: 'HEALTHY',
      loadBalancingWeight: { value: 3 },
      metadata: { filterMetadata: { trellis: jsonToStruct({ workload: 'payments-1', labels: { version: 'v1' } }) } },
    }),
    ep('10.0.0.2', 15006),
  ]);
  assert.deepEqual(r, {
    ok: true,
    value: {
      clusterName: NAME,
      endpoints: [
        { address: '10.0.0.1', port: 15006, healthy: true, weight: 3, workload: 'payments-1' },
        { address: '10.0.0.2', port: 15006, healthy: true, weight: 1 },
      ],
    },
  });
});

test('UNHEALTHY, DRAINING and TIMEOUT endpoints are unhealthy; UNKNOWN, HEALTHY and DEGRADED are healthy', () => {
  const states = ['UNHEALTHY', 'DRAINING', 'TIMEOUT', 'UNKNOWN', 'HEALTHY', 'DEGRADED'];
  const r = decode(states.map((s, i) => ep('10.0.0.1', 1000 + i, { healthStatus: s })));
  assert.ok(r.ok);
  assert.deepEqual(
    r.value.endpoints.map((e) => e.healthy),
    [false, false, false, true, true, true],
  );
});

test('endpoints of several localities are flattened in order', () => {
  const r = decodeClusterLoadAssignment(wireCla({ clusterName: NAME, endpoints: [{ lbEndpoints: [ep('10.0.0.1', 1)] }, { lbEndpoints: [ep('10.0.0.2', 2)] }] }));
  assert.ok(r.ok);
  assert.deepEqual(
    r.value.endpoints.map((e) => e.port),
    [1, 2],
  );
});

test('a CLA with no endpoints is valid (a service with no instances yet)', () => {
  const r = decodeClusterLoadAssignment(wireCla({ clusterName: NAME }));
  assert.deepEqual(r, { ok: true, value: { clusterName: NAME, endpoints: [] } });
});

const L = 'endpoints[0].lbEndpoints';
const invalid: [string, Mutable[], string][] = [
  ['a host name', [ep('payments', 80)], `endpoints "${NAME}": ${L}[0].endpoint.address.socketAddress.address: must be an IP address literal, got "payments"`],
  ['port 70000', [ep('10.0.0.1', 70000)], `${L}[0].endpoint.address.socketAddress.portValue: must be a port in 1..65535, got 70000`],
  ['weight 0', [ep('10.0.0.1', 1, { loadBalancingWeight: { value: 0 } })], `${L}[0].loadBalancingWeight: must be an integer >= 1, got 0`],
  ['no endpoint', [{ healthStatus: 'HEALTHY' }], `${L}[0].endpoint: required`],
  [
    'a non-string workload',
    [ep('10.0.0.1', 1, { metadata: { filterMetadata: { trellis: jsonToStruct({ workload: true }) } } })],
    `${L}[0].metadata.filterMetadata.trellis.workload: must be a string, got true`,
  ],
];
for (const [what, eps, expected] of invalid) {
  test(`an endpoint with ${what} is refused: ${expected}`, () => {
    const r = decode(eps);
    assert.ok(!r.ok && formatProblems(r.error).includes(expected), !r.ok ? formatProblems(r.error) : 'decoded');
  });
}

test('a CLA without a cluster name is refused', () => {
  const r = decodeClusterLoadAssignment(wireCla({ endpoints: [] }), 2);
  assert.ok(!r.ok && formatProblems(r.error) === 'endpoints #2: clusterName: required');
});

test('a non-zero priority is refused (Trellis has no failover priorities)', () => {
  const r = decodeClusterLoadAssignment(wireCla({ clusterName: NAME, endpoints: [{ priority: 1, lbEndpoints: [ep('10.0.0.1', 1)] }] }));
  assert.ok(!r.ok && formatProblems(r.error).includes('endpoints[0].priority: priorities are not supported'));
});
