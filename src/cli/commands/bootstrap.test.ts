import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyMetadata } from '../../xds/node-metadata.js';
import { defaultGrpcNodeId, grpcMetadata } from './bootstrap.js';

test("a proxyless node's metadata: kind grpc, its server ports as inbound entries with port === appPort, no upstreams; valid for the control plane", () => {
  const m = grpcMetadata({ service: 'payments', namespace: 'shop', label: ['version=v2'], port: [50051, 50052], address: '10.0.0.5' });
  assert.deepEqual(m, {
    kind: 'grpc',
    service: 'payments',
    namespace: 'shop',
    labels: { version: 'v2' },
    address: '10.0.0.5',
    inbound: [
      { port: 50051, appPort: 50051 },
      { port: 50052, appPort: 50052 },
    ],
    upstreams: [],
  });
  assert.deepEqual(parseProxyMetadata(JSON.parse(JSON.stringify(m))), { ok: true, value: m });
});

test('the default node id: address and first port like a sidecar’s; a client-only app adds its process id', () => {
  const server = grpcMetadata({ service: 'payments', namespace: 'shop', label: [], port: [50051], address: '10.0.0.5' });
  assert.equal(defaultGrpcNodeId(server), 'grpc~10.0.0.5:50051~payments.shop');
  const client = grpcMetadata({ service: 'web', namespace: 'default', label: [], port: [], address: '10.0.0.6' });
  assert.equal(defaultGrpcNodeId(client, 4242), 'grpc~10.0.0.6~web.default~4242');
  assert.notEqual(defaultGrpcNodeId(client, 1), defaultGrpcNodeId(client, 2));
});
