// The proxy's subset of the Envoy API: up to date with the .proto tree, and each of its types
// the same message as in the full Root (fields, numbers, types, packing, oneofs, enum values).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { envoySubset, PROXY_MESSAGES } from './envoy-subset.js';
import { envoyRoot } from './protos.js';
import { decodeProxyMessage, encodeProxyMessage, proxyRoot } from './proxy-protos.js';
import { decodeMessage, encodeMessage } from './protos.js';
import { DISCOVERY_REQUEST } from './type-urls.js';
import { jsonToStruct } from './node-metadata.js';

const require = createRequire(import.meta.url);

test('generated/proxy-envoy-types.json is what envoySubset makes of the .proto tree (else run scripts/generate-xds-subset.mjs)', () => {
  assert.deepEqual(require('./generated/proxy-envoy-types.json'), JSON.parse(JSON.stringify(envoySubset(envoyRoot()))));
});

/** What decides how a message encodes and decodes. */
function shape(t: protobuf.Type | protobuf.Enum): unknown {
  if (t instanceof protobuf.Enum) return { values: { ...t.values } };
  return {
    fields: t.fieldsArray.map((f) => ({
      name: f.name,
      id: f.id,
      type: f.resolvedType?.fullName ?? f.type,
      repeated: f.repeated,
      required: f.required,
      packed: f.packed,
      keyType: f instanceof protobuf.MapField ? f.keyType : undefined,
      oneof: f.partOf?.name,
    })),
    oneofs: t.oneofsArray.map((o) => ({ name: o.name, fields: o.oneof })),
  };
}

test('every type of the subset is the same message as in the full Root, and the subset holds every message the proxy exchanges', () => {
  const full = envoyRoot();
  const subset = proxyRoot();
  let types = 0;
  (function walk(ns: protobuf.NamespaceBase): void {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type || child instanceof protobuf.Enum) {
        types++;
        assert.deepEqual(shape(child), shape(full.lookup(child.fullName) as protobuf.Type | protobuf.Enum), child.fullName);
      }
      if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) walk(child);
    }
  })(subset);
  for (const name of PROXY_MESSAGES) assert.ok(subset.lookupType(name));
  assert.ok(types > 100 && types < 1000, `the subset has ${types} types`);
});

test('a DiscoveryRequest the proxy encodes (node metadata, a NACK) decodes the same through the full Root', () => {
  const request = {
    versionInfo: '3',
    typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    responseNonce: 'n-7',
    resourceNames: ['a', 'b'],
    node: {
      id: 'sidecar~127.0.0.1:15006~web.default',
      cluster: 'web',
      userAgentName: 'trellis',
      metadata: jsonToStruct({ service: 'web', inbound: [{ port: 15006, appPort: 3000 }] }),
    },
    errorDetail: { code: 3, message: 'listener x: bad' },
  };
  const bytes = encodeProxyMessage(DISCOVERY_REQUEST, request);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(encodeMessage(DISCOVERY_REQUEST, request)));
  assert.deepEqual(decodeMessage(DISCOVERY_REQUEST, bytes), decodeProxyMessage(DISCOVERY_REQUEST, bytes));
});
