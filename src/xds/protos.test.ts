import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, encodeMessage } from './protos.js';
import { CLUSTER_LOAD_ASSIGNMENT, LISTENER } from './type-urls.js';
import type { Listener } from './envoy-types.js';

test('a listener with a nested HttpConnectionManager survives an encode/decode round trip', () => {
  const listener: Listener = {
    name: 'outbound|127.0.0.1:9001',
    address: { socketAddress: { address: '127.0.0.1', portValue: 9001 } },
    trafficDirection: 'OUTBOUND',
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              statPrefix: 'outbound',
              codecType: 'AUTO',
              rds: { routeConfigName: 'outbound|payments.default:8080', configSource: { ads: {}, resourceApiVersion: 'V3' } },
              httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
            },
          },
        ],
      },
    ],
  };
  const back = decodeMessage<Listener>(LISTENER, encodeMessage(LISTENER, listener));
  assert.deepEqual(back, listener);
});

test('a cluster load assignment keeps endpoint addresses, health and weights', () => {
  const cla = {
    clusterName: 'outbound|8080||payments.default',
    endpoints: [
      {
        lbEndpoints: [
          { endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 15006 } } }, healthStatus: 'HEALTHY', loadBalancingWeight: { value: 1 } },
          { endpoint: { address: { socketAddress: { address: '127.0.0.2', portValue: 15007 } } }, healthStatus: 'UNHEALTHY', loadBalancingWeight: { value: 3 } },
        ],
      },
    ],
  };
  assert.deepEqual(decodeMessage(CLUSTER_LOAD_ASSIGNMENT, encodeMessage(CLUSTER_LOAD_ASSIGNMENT, cla)), cla);
});
