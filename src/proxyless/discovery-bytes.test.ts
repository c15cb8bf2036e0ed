import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonToStruct } from '../xds/node-metadata.js';
import { decodeProxyMessage, encodeProxyMessage } from '../xds/proxy-protos.js';
import { DISCOVERY_REQUEST, DISCOVERY_RESPONSE, LISTENER_TYPE, SECRET_TYPE } from '../xds/type-urls.js';
import { typeUrlOf, withNode } from './discovery-bytes.js';

const NODE = 'envoy.config.core.v3.Node';
const agentNode = encodeProxyMessage(NODE, { id: 'grpc~10.0.0.1:50051~payments.default', cluster: 'payments', metadata: jsonToStruct({ kind: 'grpc', service: 'payments' }) });

interface DecodedRequest {
  versionInfo?: string;
  node?: { id?: string; cluster?: string; metadata?: unknown; userAgentName?: string; userAgentVersion?: string; clientFeatures?: string[] };
  resourceNames?: string[];
  typeUrl?: string;
  responseNonce?: string;
  errorDetail?: { code?: number; message?: string };
}

test("withNode replaces the app's node by the agent's, keeping the app's user agent and client features and every other field", () => {
  const appRequest = encodeProxyMessage(DISCOVERY_REQUEST, {
    versionInfo: '3',
    node: {
      id: 'app-says-so',
      cluster: 'other',
      metadata: jsonToStruct({ service: 'admin' }),
      userAgentName: 'gRPC Node Pure JS',
      userAgentVersion: '1.14.1',
      clientFeatures: ['f1'],
    },
    resourceNames: ['payments:50051'],
    typeUrl: LISTENER_TYPE,
    responseNonce: 'n7',
    errorDetail: { code: 3, message: 'bad' },
  });
  const out = decodeProxyMessage<DecodedRequest>(DISCOVERY_REQUEST, withNode(appRequest, agentNode));
  assert.deepEqual(out.node, {
    id: 'grpc~10.0.0.1:50051~payments.default',
    cluster: 'payments',
    metadata: { fields: { kind: { stringValue: 'grpc' }, service: { stringValue: 'payments' } } },
    userAgentName: 'gRPC Node Pure JS',
    userAgentVersion: '1.14.1',
    clientFeatures: ['f1'],
  });
  assert.equal(out.versionInfo, '3');
  assert.deepEqual(out.resourceNames, ['payments:50051']);
  assert.equal(out.typeUrl, LISTENER_TYPE);
  assert.equal(out.responseNonce, 'n7');
  assert.deepEqual(out.errorDetail, { code: 3, message: 'bad' });
});

test('withNode adds the node to a request that had none (gRPC sends it in the first request of a stream only)', () => {
  const later = encodeProxyMessage(DISCOVERY_REQUEST, { versionInfo: '4', resourceNames: ['a'], typeUrl: LISTENER_TYPE, responseNonce: 'n8' });
  const out = decodeProxyMessage<DecodedRequest>(DISCOVERY_REQUEST, withNode(later, agentNode));
  assert.equal(out.node?.id, 'grpc~10.0.0.1:50051~payments.default');
  assert.equal(out.node?.userAgentName, undefined);
  assert.equal(out.responseNonce, 'n8');
});

test('typeUrlOf reads the type of a request or a response without decoding its resources', () => {
  assert.equal(typeUrlOf(encodeProxyMessage(DISCOVERY_REQUEST, { typeUrl: SECRET_TYPE, resourceNames: ['default'] })), SECRET_TYPE);
  assert.equal(typeUrlOf(encodeProxyMessage(DISCOVERY_RESPONSE, { versionInfo: '1', typeUrl: LISTENER_TYPE, nonce: 'x' })), LISTENER_TYPE);
  assert.equal(typeUrlOf(new Uint8Array()), '');
  assert.throws(() => typeUrlOf(Buffer.from([0x22, 0x7f])));
});
