// The whole snapshot of a proxy for small meshes, written out in full.
import { jsonToStruct } from '../../xds/node-metadata.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../xds/envoy-types.js';
import { serviceDomains } from '../../xds/names.js';
import { decodeMessage, encodeMessage } from '../../xds/protos.js';
import { CLUSTER, CLUSTER_LOAD_ASSIGNMENT, CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER, LISTENER_TYPE, ROUTE_CONFIGURATION, ROUTE_TYPE } from '../../xds/type-urls.js';
import { checkSnapshot } from './consistency.js';
import { input, proxy, service, workload } from './test-fixtures.js';
import { translate } from './translate.js';

const ADS = { ads: {}, resourceApiVersion: 'V3' as const };
const ROUTER = [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }];
// Outbound listeners carry the fault and local rate limit filters (inert without per-route config) before the router.
const OUTBOUND_FILTERS = [
  { name: 'envoy.filters.http.fault', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } },
  {
    name: 'envoy.filters.http.local_ratelimit',
    typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', statPrefix: 'outbound_local_rate_limit' },
  },
  ...ROUTER,
];
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager' as const;

// The mesh's default path normalization (MERGE_SLASHES), on every HCM.
const MESH_DEFAULT_PATHS = { normalizePath: { value: true }, mergeSlashes: true, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' as const };

function hcmListener(name: string, address: string, port: number, direction: 'INBOUND' | 'OUTBOUND', statPrefix: string, routeConfigName: string): Listener {
  return {
    name,
    address: { socketAddress: { address, portValue: port } },
    trafficDirection: direction,
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: {
              '@type': HCM,
              statPrefix,
              codecType: 'AUTO',
              rds: { routeConfigName, configSource: ADS },
              httpFilters: direction === 'OUTBOUND' ? OUTBOUND_FILTERS : ROUTER,
              ...MESH_DEFAULT_PATHS,
            },
          },
        ],
      },
    ],
  };
}

const mesh = () => input({ services: [service('server')], workloads: [workload('server-1', 'server', { address: '10.0.0.2' })] });
const client = () =>
  proxy('client-1', 'client', {
    inbound: [{ port: 15006, appPort: 3000 }],
    upstreams: [{ service: 'server', namespace: 'default', port: 8080, localPort: 9001 }],
    httpProxyPort: 15001,
  });

test('one Service and one workload: the calling proxy gets clusters, endpoints, listeners and routes', () => {
  const s = translate(mesh(), client());
  assert.deepEqual([...s.clusters.values()], [
    {
      name: 'inbound|3000',
      type: 'STATIC',
      connectTimeout: { seconds: 5 },
      lbPolicy: 'ROUND_ROBIN',
      loadAssignment: { clusterName: 'inbound|3000', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 3000 } } } }] }] },
      metadata: { filterMetadata: { trellis: jsonToStruct({ service: 'client', namespace: 'default', port: 3000, direction: 'inbound' }) } },
    },
    {
      name: 'outbound|8080||server.default',
      type: 'EDS',
      edsClusterConfig: { edsConfig: ADS },
      connectTimeout: { seconds: 5 },
      lbPolicy: 'ROUND_ROBIN',
      metadata: { filterMetadata: { trellis: jsonToStruct({ service: 'server', namespace: 'default', port: 8080, protocol: 'http' }) } },
    },
  ] satisfies Cluster[]);
  assert.deepEqual([...s.endpoints.values()], [
    {
      clusterName: 'outbound|8080||server.default',
      endpoints: [
        {
          lbEndpoints: [
            {
              endpoint: { address: { socketAddress: { address: '10.0.0.2', portValue: 15006 } } },
              healthStatus: 'HEALTHY',
              metadata: { filterMetadata: { trellis: jsonToStruct({ workload: 'server-1', labels: { app: 'server' } }) } },
            },
          ],
        },
      ],
    },
  ] satisfies ClusterLoadAssignment[]);
  assert.deepEqual(
    [...s.listeners.values()],
    [
      hcmListener('inbound|15006', '10.0.0.1', 15006, 'INBOUND', 'inbound_15006', 'inbound|15006'),
      hcmListener('outbound|127.0.0.1:9001', '127.0.0.1', 9001, 'OUTBOUND', 'outbound_server.default_8080', 'outbound|server.default:8080'),
      hcmListener('outbound|http-proxy', '127.0.0.1', 15001, 'OUTBOUND', 'outbound_http_proxy', 'outbound|http-proxy'),
    ],
  );
  const toServer = [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'outbound|8080||server.default', timeout: { seconds: 0 } } }];
  assert.deepEqual([...s.routes.values()], [
    {
      name: 'inbound|15006',
      virtualHosts: [{ name: 'inbound|15006', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'inbound|3000', timeout: { seconds: 0 } } }] }],
    },
    { name: 'outbound|http-proxy', virtualHosts: [{ name: 'server.default:8080', domains: serviceDomains('server', 'default', 8080, 'default'), routes: toServer }] },
    { name: 'outbound|server.default:8080', virtualHosts: [{ name: 'server.default:8080', domains: ['*'], routes: toServer }] },
  ] satisfies RouteConfiguration[]);
  assert.deepEqual(s.warnings, []);
  assert.deepEqual(checkSnapshot(s), []);
});

test('every type has a 16-hex-digit version', () => {
  const s = translate(mesh(), client());
  for (const t of [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE]) assert.match(s.versions[t], /^[0-9a-f]{16}$/);
});

test('the serving proxy gets an inbound listener and no upstream or HTTP proxy listener', () => {
  const s = translate(mesh(), proxy('server-1', 'server', { address: '10.0.0.2' }));
  assert.deepEqual([...s.listeners.keys()], ['inbound|15006']);
  assert.deepEqual([...s.clusters.keys()], ['inbound|8080', 'outbound|8080||server.default']);
  assert.deepEqual(checkSnapshot(s), []);
});

test('every resource of a snapshot encodes as its Envoy message and decodes to the same names', () => {
  const s = translate(mesh(), client());
  const kinds: [string, ReadonlyMap<string, { name?: string; clusterName?: string }>][] = [
    [LISTENER, s.listeners],
    [ROUTE_CONFIGURATION, s.routes],
    [CLUSTER, s.clusters],
    [CLUSTER_LOAD_ASSIGNMENT, s.endpoints],
  ];
  for (const [type, resources] of kinds) {
    for (const [name, r] of resources) {
      const back = decodeMessage<{ name?: string; clusterName?: string }>(type, encodeMessage(type, r));
      assert.equal(back.name ?? back.clusterName, name);
    }
  }
});

test('translating twice gives equal snapshots (the translator is pure)', () => {
  const a = translate(mesh(), client());
  const b = translate(mesh(), client());
  assert.deepEqual(a, b);
});
