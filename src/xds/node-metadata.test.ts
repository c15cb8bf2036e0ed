// Node metadata: parsing with every problem named, and the Struct round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonToStruct, parseProxyMetadata, proxyMetadataToStruct, structToJson, type ProxyMetadata } from './node-metadata.js';
import { decodeMessage, encodeMessage } from './protos.js';

const full: ProxyMetadata = {
  service: 'payments',
  namespace: 'prod',
  labels: { version: 'v2' },
  address: '10.0.0.7',
  inbound: [{ port: 15006, appPort: 3000 }],
  httpProxyPort: 15001,
  upstreams: [{ service: 'ledger', namespace: 'prod', port: 8080, localPort: 9001 }],
  adminPort: 15000,
};

test('metadata survives Struct encoding in an xDS Node and parses back to the same value', () => {
  const bytes = encodeMessage('envoy.config.core.v3.Node', { id: 'p1', metadata: proxyMetadataToStruct(full) });
  const node = decodeMessage<{ metadata: Parameters<typeof structToJson>[0] }>('envoy.config.core.v3.Node', bytes);
  assert.deepEqual(parseProxyMetadata(structToJson(node.metadata)), { ok: true, value: full });
});

test('defaults: namespace default, empty labels, inbound and upstreams; upstream namespace from the proxy', () => {
  const r = parseProxyMetadata({ service: 's', address: '::1', adminPort: 1, upstreams: [{ service: 'u', port: 80, localPort: 2 }] });
  assert.deepEqual(r, {
    ok: true,
    value: {
      service: 's',
      namespace: 'default',
      labels: {},
      address: '::1',
      inbound: [],
      upstreams: [{ service: 'u', namespace: 'default', port: 80, localPort: 2 }],
      adminPort: 1,
    },
  });
});

test('transparent-mode capture ports survive the Struct round trip', () => {
  const m: ProxyMetadata = { ...full, inbound: [{ port: 3000, appPort: 3000 }], capture: { inboundPort: 15006, outboundPort: 15002, dnsPort: 15053 } };
  assert.deepEqual(parseProxyMetadata(structToJson(proxyMetadataToStruct(m))), { ok: true, value: m });
  const excluded: ProxyMetadata = { ...m, capture: { ...m.capture!, excludeInboundPorts: [22, 9191] } };
  assert.deepEqual(parseProxyMetadata(structToJson(proxyMetadataToStruct(excluded))), { ok: true, value: excluded });
});

test('the admin socket path survives the Struct round trip', () => {
  const m: ProxyMetadata = { ...full, adminSocket: '/run/trellis/trellis-admin-payments.sock' };
  assert.deepEqual(parseProxyMetadata(structToJson(proxyMetadataToStruct(m))), { ok: true, value: m });
  assert.equal('adminSocket' in (parseProxyMetadata(structToJson(proxyMetadataToStruct(full))) as { value: object }).value, false, 'absent stays absent');
});

test('a proxyless gRPC node (kind grpc) has no admin port and survives the Struct round trip', () => {
  const m: ProxyMetadata = { kind: 'grpc', service: 'orders', namespace: 'shop', labels: {}, address: '10.0.0.7', inbound: [{ port: 50051, appPort: 50051 }], upstreams: [] };
  assert.deepEqual(parseProxyMetadata(structToJson(proxyMetadataToStruct(m))), { ok: true, value: m });
  assert.equal(structToJson(proxyMetadataToStruct(full)).kind, undefined, 'a sidecar does not write its kind');
});

test('a proxyless gRPC node may not claim sidecar listeners, and its server port is its own', () => {
  const r = parseProxyMetadata({ kind: 'grpc', service: 's', address: '127.0.0.1', inbound: [{ port: 50051, appPort: 8080 }], upstreams: [], httpProxyPort: 15001 });
  assert.deepEqual(r, {
    ok: false,
    error: [
      'metadata.httpProxyPort: a proxyless gRPC node (kind grpc) has no httpProxyPort; remove it',
      'metadata.inbound[0]: a proxyless gRPC server listens itself, so port and appPort must be equal, got 50051 and 8080',
    ],
  });
  assert.deepEqual(parseProxyMetadata({ kind: 'ambient', service: 's', address: '127.0.0.1', adminPort: 1 }), {
    ok: false,
    error: ['metadata.kind: must be one of sidecar, grpc, gateway, got "ambient"'],
  });
  assert.equal(parseProxyMetadata({ service: 's', address: '127.0.0.1' }).ok, false, 'a sidecar still needs its admin port');
});

test('unknown keys are ignored', () => {
  assert.equal(parseProxyMetadata({ service: 's', address: '127.0.0.1', adminPort: 1, ISTIO_VERSION: '1.2' }).ok, true);
});

const cases: [string, unknown, string[]][] = [
  ['not an object', 'x', ['metadata: must be an object, got "x"']],
  [
    'missing fields',
    {},
    [
      'metadata.service: must be a non-empty string, got nothing',
      'metadata.address: must be a non-empty string, got nothing',
      'metadata.adminPort: must be an integer from 1 to 65535, got nothing',
    ],
  ],
  ['address not an IP', { service: 's', address: 'host.local', adminPort: 1 }, ['metadata.address: must be an IPv4 or IPv6 address, got "host.local"']],
  ['bad label', { service: 's', address: '10.0.0.1', adminPort: 1, labels: { a: 1 } }, ['metadata.labels.a: must be a string, got 1']],
  [
    'bad inbound port',
    { service: 's', address: '10.0.0.1', adminPort: 1, inbound: [{ port: 'x', appPort: 70000 }] },
    ['metadata.inbound[0].port: must be an integer from 1 to 65535, got "x"', 'metadata.inbound[0].appPort: must be an integer from 1 to 65535, got 70000'],
  ],
  ['inbound not a list', { service: 's', address: '10.0.0.1', adminPort: 1, inbound: {} }, ['metadata.inbound: must be a list, got {}']],
  [
    'duplicate inbound port',
    {
      service: 's',
      address: '10.0.0.1',
      adminPort: 1,
      inbound: [
        { port: 5, appPort: 6 },
        { port: 5, appPort: 7 },
      ],
    },
    ['metadata.inbound[1].port: 5 is already used by another inbound entry'],
  ],
  [
    'local port used twice',
    { service: 's', address: '10.0.0.1', adminPort: 9001, upstreams: [{ service: 'u', port: 80, localPort: 9001 }] },
    ['metadata.adminPort: 9001 is already used by metadata.upstreams[0].localPort'],
  ],
  [
    'inbound port taken by a local port on 127.0.0.1',
    { service: 's', address: '127.0.0.1', adminPort: 15006, inbound: [{ port: 15006, appPort: 3000 }] },
    ['metadata.adminPort: 15006 is already used by metadata.inbound[0].port'],
  ],
  [
    'capture not an object',
    { service: 's', address: '10.0.0.1', adminPort: 1, capture: 15006 },
    ['metadata.capture: must be an object {inboundPort, outboundPort, dnsPort}, got 15006'],
  ],
  [
    'capture excluded port out of range',
    { service: 's', address: '10.0.0.1', adminPort: 1, capture: { inboundPort: 15006, outboundPort: 15001, excludeInboundPorts: [22, 0] } },
    ['metadata.capture.excludeInboundPorts[1]: must be an integer from 1 to 65535, got 0'],
  ],
  [
    'capture port clashing with the admin port',
    { service: 's', address: '10.0.0.1', adminPort: 15001, capture: { inboundPort: 15006, outboundPort: 15001 } },
    ['metadata.capture.outboundPort: 15001 is already used by metadata.adminPort'],
  ],
  ['admin socket not a string', { service: 's', address: '10.0.0.1', adminPort: 1, adminSocket: 7 }, ['metadata.adminSocket: must be an absolute path (a Unix socket), got 7']],
  ['admin socket relative', { service: 's', address: '10.0.0.1', adminPort: 1, adminSocket: 'admin.sock' }, ['metadata.adminSocket: must be an absolute path, got "admin.sock"']],
  [
    'admin socket too long for a socket address',
    { service: 's', address: '10.0.0.1', adminPort: 1, adminSocket: `/${'a'.repeat(110)}` },
    [`metadata.adminSocket: must be at most 107 bytes (a Unix socket address), got 111: /${'a'.repeat(110)}`],
  ],
  [
    'upstream missing service',
    { service: 's', address: '10.0.0.1', adminPort: 1, upstreams: [{ port: 80, localPort: 2 }] },
    ['metadata.upstreams[0].service: must be a non-empty string, got nothing'],
  ],
];
for (const [name, raw, problems] of cases) {
  test(`invalid metadata (${name}) is refused with every problem and its path`, () => {
    assert.deepEqual(parseProxyMetadata(raw), { ok: false, error: problems });
  });
}

test('structToJson and jsonToStruct are inverse for nested values', () => {
  const json = { a: 'x', b: 2.5, c: true, d: null, e: [1, 'y', { f: false }], g: {} };
  assert.deepEqual(structToJson(jsonToStruct(json)), json);
});

test('a gateway node (kind gateway) round-trips and refuses inbound ports, upstreams and capture', () => {
  const m: ProxyMetadata = { kind: 'gateway', service: 'edge', namespace: 'web', labels: {}, address: '0.0.0.0', inbound: [], upstreams: [], adminPort: 15000 };
  assert.deepEqual(parseProxyMetadata(structToJson(proxyMetadataToStruct(m))), { ok: true, value: m });
  const r = parseProxyMetadata({
    kind: 'gateway',
    service: 'edge',
    address: '0.0.0.0',
    adminPort: 15000,
    inbound: [{ port: 8080, appPort: 3000 }],
    upstreams: [],
    httpProxyPort: 15001,
  });
  assert.deepEqual(r, {
    ok: false,
    error: [
      'metadata.inbound: a gateway (kind gateway) has no inbound: its listeners come from its Gateway; remove it',
      'metadata.httpProxyPort: a gateway (kind gateway) has no httpProxyPort: its listeners come from its Gateway; remove it',
    ],
  });
});
