import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeListener } from './decode-listener.js';
import { formatProblems } from './errors.js';
import { httpListener, tcpListener, wireListener } from './xds-fixtures.js';

const NAME = 'outbound|127.0.0.1:9001';
type Mutable = Record<string, any>;

function http(mutate: (l: Mutable) => void = () => {}): Mutable {
  const l = structuredClone(httpListener(NAME, 9001, 'outbound|payments.default:8080')) as Mutable;
  mutate(l);
  return l;
}

test('an HTTP listener decodes to its address, direction and route table', () => {
  const r = decodeListener(wireListener(http()));
  assert.deepEqual(r, {
    ok: true,
    value: {
      name: NAME,
      direction: 'outbound',
      address: '127.0.0.1',
      port: 9001,
      protocol: 'http',
      routeTable: 'outbound|payments.default:8080',
      httpProxy: false,
    },
  });
});

test('the HTTP proxy listener is marked httpProxy', () => {
  const r = decodeListener(wireListener(httpListener('outbound|http-proxy', 15080, 'outbound|http-proxy')));
  assert.ok(r.ok && r.value.protocol === 'http' && r.value.httpProxy);
});

test('an inbound listener on an IPv6 address decodes', () => {
  const r = decodeListener(
    wireListener(
      http((l) => {
        l.trafficDirection = 'INBOUND';
        l.address.socketAddress.address = '::1';
      }),
    ),
  );
  assert.ok(r.ok && r.value.direction === 'inbound' && r.value.address === '::1');
});

test('a TCP listener with one cluster gets it with weight 1', () => {
  const r = decodeListener(wireListener(tcpListener('tcp', 9100, 'outbound|5432||db.default')));
  assert.ok(r.ok && r.value.protocol === 'tcp');
  assert.deepEqual(r.value.clusters, [{ cluster: 'outbound|5432||db.default', weight: 1 }]);
});

test('a TCP listener with weighted clusters keeps their weights, zero included', () => {
  const l = tcpListener('tcp', 9100, 'x') as Mutable;
  const tc = l.filterChains[0].filters[0].typedConfig;
  delete tc.cluster;
  tc.weightedClusters = {
    clusters: [
      { name: 'a', weight: 90 },
      { name: 'b', weight: 10 },
      { name: 'c', weight: 0 },
    ],
  };
  const r = decodeListener(wireListener(l));
  assert.ok(r.ok && r.value.protocol === 'tcp');
  assert.deepEqual(r.value.clusters, [
    { cluster: 'a', weight: 90 },
    { cluster: 'b', weight: 10 },
    { cluster: 'c', weight: 0 },
  ]);
});

const HCM = 'filterChains[0].filters[0].typedConfig';
const invalid: [string, (l: Mutable) => void, string][] = [
  ['missing route config name', (l) => delete l.filterChains[0].filters[0].typedConfig.rds.routeConfigName, `listener "${NAME}": ${HCM}.rds.routeConfigName: required`],
  ['missing rds', (l) => delete l.filterChains[0].filters[0].typedConfig.rds, `${HCM}.rds: required`],
  ['RDS not over ADS', (l) => (l.filterChains[0].filters[0].typedConfig.rds.configSource = { path: '/etc/rds.yaml' }), `${HCM}.rds.configSource: must be { ads: {} }`],
  ['host name instead of IP', (l) => (l.address.socketAddress.address = 'localhost'), 'address.socketAddress.address: must be an IP address literal, got "localhost"'],
  ['port 0 (omitted on the wire)', (l) => (l.address.socketAddress.portValue = 0), 'address.socketAddress.portValue: must be a port in 1..65535, got 0'],
  ['missing address', (l) => delete l.address, `listener "${NAME}": address: required`],
  ['missing direction', (l) => delete l.trafficDirection, 'trafficDirection: required: INBOUND or OUTBOUND'],
  [
    'two filter chains without tls/raw_buffer matches',
    (l) => l.filterChains.push(l.filterChains[0]),
    'filterChains[0].filterChainMatch.transportProtocol: must be "tls" (the mTLS chain comes first), got undefined',
  ],
  [
    'three filter chains',
    (l) => l.filterChains.push(l.filterChains[0], l.filterChains[0]),
    'filterChains: must have one filter chain, or two (transportProtocol tls and raw_buffer), got 3',
  ],
  ['no filter chain', (l) => (l.filterChains = []), 'filterChains: must have one filter chain, or two (transportProtocol tls and raw_buffer), got 0'],
  ['two filters', (l) => l.filterChains[0].filters.push(l.filterChains[0].filters[0]), 'filterChains[0].filters: must have exactly one network filter, got 2'],
  [
    'unknown network filter type',
    (l) => (l.filterChains[0].filters[0].typedConfig = { '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', name: 'x' }),
    `${HCM}.@type: unsupported type "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"`,
  ],
  ['no router filter', (l) => (l.filterChains[0].filters[0].typedConfig.httpFilters = []), `${HCM}.httpFilters: must end with the router filter`],
  [
    'unknown required http filter',
    (l) => l.filterChains[0].filters[0].typedConfig.httpFilters.unshift({ name: 'x', typedConfig: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener' } }),
    `${HCM}.httpFilters[0].typedConfig.@type: unsupported type`,
  ],
  ['inline route config', (l) => (l.filterChains[0].filters[0].typedConfig.routeConfig = { name: 'inline' }), `${HCM}.routeConfig: inline route configuration is not supported`],
];
for (const [what, mutate, expected] of invalid) {
  test(`a listener with ${what} is refused: ${expected}`, () => {
    const r = decodeListener(wireListener(http(mutate)));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && formatProblems(r.error).includes(expected), !r.ok ? formatProblems(r.error) : '');
  });
}

test('an unknown http filter marked optional is accepted', () => {
  const r = decodeListener(
    wireListener(
      http((l) =>
        l.filterChains[0].filters[0].typedConfig.httpFilters.unshift({
          name: 'x',
          isOptional: true,
          typedConfig: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener' },
        }),
      ),
    ),
  );
  assert.ok(r.ok);
});

test('an RBAC HTTP filter is enforced whatever prefix its type URL has (the message name decides, as Envoy does)', () => {
  const r = decodeListener(
    wireListener(
      http((l) =>
        l.filterChains[0].filters[0].typedConfig.httpFilters.unshift({
          name: 'envoy.filters.http.rbac',
          typedConfig: {
            '@type': 'example.com/envoy.extensions.filters.http.rbac.v3.RBAC',
            rules: { action: 'DENY', policies: { 'default/p/rules[0]': { principals: [{ any: true }], permissions: [{ any: true }] } } },
          },
        }),
      ),
    ),
  );
  assert.ok(r.ok && r.value.protocol === 'http', !r.ok ? formatProblems(r.error) : '');
  assert.deepEqual(r.value.authz, [{ action: 'deny', policies: [{ name: 'default/p/rules[0]', principals: [{ any: true }], permissions: [{ any: true }] }] }]);
});

test('a known http filter marked optional is still checked (optional only lets an unknown filter be skipped)', () => {
  const r = decodeListener(
    wireListener(
      http((l) =>
        l.filterChains[0].filters[0].typedConfig.httpFilters.unshift({
          name: 'envoy.filters.http.fault',
          isOptional: true,
          typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { httpStatus: 503 } },
        }),
      ),
    ),
  );
  assert.ok(
    !r.ok && formatProblems(r.error).includes(`${HCM}.httpFilters[0].typedConfig.abort: Trellis proxy takes fault and local rate limit settings only from typedPerFilterConfig`),
    !r.ok ? formatProblems(r.error) : 'decoded',
  );
});

const tcpInvalid: [string, (tc: Mutable) => void, string][] = [
  ['neither cluster nor weighted clusters', (tc) => delete tc.cluster, `${HCM}: exactly one of cluster and weightedClusters is required, got neither`],
  ['both cluster and weighted clusters', (tc) => (tc.weightedClusters = { clusters: [{ name: 'a', weight: 1 }] }), 'got both'],
  [
    'all-zero weights',
    (tc) => {
      delete tc.cluster;
      tc.weightedClusters = { clusters: [{ name: 'a', weight: 0 }, { name: 'b' }] };
    },
    `${HCM}.weightedClusters.clusters: weights must not all be zero`,
  ],
  [
    'an unnamed weighted cluster',
    (tc) => {
      delete tc.cluster;
      tc.weightedClusters = { clusters: [{ weight: 1 }] };
    },
    `${HCM}.weightedClusters.clusters[0].name: required`,
  ],
  [
    'an empty weighted cluster list',
    (tc) => {
      delete tc.cluster;
      tc.weightedClusters = { clusters: [] };
    },
    `${HCM}.weightedClusters.clusters: required: at least one cluster`,
  ],
];
for (const [what, mutate, expected] of tcpInvalid) {
  test(`a TCP listener with ${what} is refused: ${expected}`, () => {
    const l = structuredClone(tcpListener('tcp', 9100, 'c')) as Mutable;
    mutate(l.filterChains[0].filters[0].typedConfig);
    const r = decodeListener(wireListener(l));
    assert.ok(!r.ok && formatProblems(r.error).includes(expected), !r.ok ? formatProblems(r.error) : 'decoded');
  });
}

test('a TCP listener with a negative weight (not encodable, built in memory) is refused', () => {
  const l = structuredClone(tcpListener('tcp', 9100, 'c')) as Mutable;
  const tc = l.filterChains[0].filters[0].typedConfig;
  delete tc.cluster;
  tc.weightedClusters = {
    clusters: [
      { name: 'a', weight: -1 },
      { name: 'b', weight: 1.5 },
    ],
  };
  const r = decodeListener(l);
  assert.ok(!r.ok);
  const text = formatProblems(r.error);
  assert.ok(text.includes('weightedClusters.clusters[0].weight: must be a non-negative integer, got -1'), text);
  assert.ok(text.includes('weightedClusters.clusters[1].weight: must be a non-negative integer, got 1.5'), text);
});

test('a nameless listener is named by its position and every problem is reported', () => {
  const r = decodeListener(
    wireListener(
      http((l) => {
        delete l.name;
        delete l.trafficDirection;
      }),
    ),
    3,
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.error.map((p) => `${p.resource}: ${p.path}`),
    ['listener #3: name', 'listener #3: trafficDirection'],
  );
});

test('a non-object listener is refused', () => {
  const r = decodeListener('nope');
  assert.ok(!r.ok && r.error[0]?.message.includes('must be a Listener object'));
});
