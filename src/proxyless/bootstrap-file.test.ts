import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { GRPC_CERT_PROVIDER_INSTANCE, GRPC_SERVER_LISTENER_TEMPLATE } from '../xds/proxyless-grpc.js';
import { parseProxyMetadata, type ProxyMetadata } from '../xds/node-metadata.js';
import { agentFiles, bootstrapText, grpcBootstrap, parseLocality } from './bootstrap-file.js';

const require = createRequire(import.meta.url);
// grpc-js-xds's own validator: what the app will do with the file.
const { validateBootstrapConfig } = require('@grpc/grpc-js-xds/build/src/xds-bootstrap.js') as { validateBootstrapConfig: (obj: unknown) => any };

const META: ProxyMetadata = {
  kind: 'grpc',
  service: 'payments',
  namespace: 'shop',
  labels: { version: 'v2' },
  address: '10.0.0.5',
  inbound: [{ port: 50051, appPort: 50051 }],
  upstreams: [],
};
const files = agentFiles('/run/payments-grpc');

test("the bootstrap passes grpc-js-xds's validator and says what the agent serves", () => {
  const info = validateBootstrapConfig(
    JSON.parse(bootstrapText({ files, nodeId: 'grpc~10.0.0.5:50051~payments.shop', metadata: META, locality: { region: 'eu', zone: 'eu-1a' } })),
  );
  assert.deepEqual(info.xdsServers, [{ server_uri: 'unix:/run/payments-grpc/xds.sock', channel_creds: [{ type: 'insecure', config: undefined }], server_features: ['xds_v3'] }]);
  assert.equal(info.node.id, 'grpc~10.0.0.5:50051~payments.shop');
  assert.equal(info.node.cluster, 'payments');
  assert.deepEqual(info.node.locality, { region: 'eu', zone: 'eu-1a' });
  assert.equal(info.serverListenerResourceNameTemplate, GRPC_SERVER_LISTENER_TEMPLATE);
  assert.deepEqual(info.certificateProviders[GRPC_CERT_PROVIDER_INSTANCE], {
    pluginName: 'file_watcher',
    config: { certificateFile: files.workload, privateKeyFile: files.workload, caCertificateFile: files.roots, refreshIntervalMs: 5000 },
  });
});

test("the bootstrap's node metadata is the agent's, valid for the control plane, and a node without locality still passes", () => {
  const json = grpcBootstrap({ files, nodeId: 'n', metadata: META });
  assert.doesNotThrow(() => validateBootstrapConfig(json));
  const node = json.node as { metadata: unknown; locality: unknown };
  assert.deepEqual(node.locality, {});
  assert.deepEqual(parseProxyMetadata(node.metadata), { ok: true, value: META });
  assert.doesNotMatch(JSON.stringify(json), /token|PRIVATE KEY/i);
});

test('parseLocality takes region[/zone[/sub_zone]]', () => {
  assert.deepEqual(parseLocality('eu'), { region: 'eu' });
  assert.deepEqual(parseLocality('eu/eu-1a/rack3'), { region: 'eu', zone: 'eu-1a', subZone: 'rack3' });
  for (const bad of ['', 'a//b', 'a/b/c/d', 'a b']) assert.equal(parseLocality(bad), undefined, bad);
});
