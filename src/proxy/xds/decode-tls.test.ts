import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER, DOWNSTREAM_TLS_CONTEXT, LISTENER, typeUrl, UPSTREAM_TLS_CONTEXT } from '../../xds/type-urls.js';
import { decodeCluster } from './decode-cluster.js';
import { decodeListener } from './decode-listener.js';
import { formatProblems } from './errors.js';
import { httpListener, wire } from './xds-fixtures.js';

type Mutable = Record<string, any>;
const ads = { ads: {}, resourceApiVersion: 'V3' };
const common = (validation: object) => ({
  tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
  tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: ads }],
  alpnProtocols: ['h2', 'http/1.1'],
  ...validation,
});
const downstream = () => ({
  name: 'envoy.transport_sockets.tls',
  typedConfig: {
    '@type': typeUrl(DOWNSTREAM_TLS_CONTEXT),
    commonTlsContext: common({ validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads } }),
    requireClientCertificate: { value: true },
  },
});
function upstream(sans: string[]): Mutable {
  const validation = {
    defaultValidationContext: { matchTypedSubjectAltNames: sans.map((exact) => ({ sanType: 'URI', matcher: { exact } })) },
    validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads },
  };
  return { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': typeUrl(UPSTREAM_TLS_CONTEXT), commonTlsContext: common({ combinedValidationContext: validation }) } };
}

function inbound(mutate: (l: Mutable) => void): Mutable {
  const l = structuredClone(httpListener('inbound|15006', 15006, 'inbound|15006', 'INBOUND')) as Mutable;
  mutate(l);
  return wire(LISTENER, l);
}

test('a listener with a TLS transport socket is STRICT mTLS', () => {
  const r = decodeListener(inbound((l) => (l.filterChains[0].transportSocket = downstream())));
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual((r.value as { tls?: unknown }).tls, { mode: 'strict' });
});

test('a tls chain and a raw_buffer chain with the same filter are PERMISSIVE', () => {
  const r = decodeListener(
    inbound((l) => {
      const plain = structuredClone(l.filterChains[0]);
      l.filterChains = [
        { ...l.filterChains[0], filterChainMatch: { transportProtocol: 'tls' }, transportSocket: downstream() },
        { ...plain, filterChainMatch: { transportProtocol: 'raw_buffer' } },
      ];
    }),
  );
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual((r.value as { tls?: unknown }).tls, { mode: 'permissive' });
});

test('inbound TLS that does not require client certificates, names other secrets, or allows TLS 1.0 is refused', () => {
  const cases: [string, (t: Mutable) => void, RegExp][] = [
    ['no client certificate', (t) => (t.typedConfig.requireClientCertificate = { value: false }), /requireClientCertificate: must be true/],
    [
      'another certificate secret',
      (t) => (t.typedConfig.commonTlsContext.tlsCertificateSdsSecretConfigs[0].name = 'other'),
      /tlsCertificateSdsSecretConfigs: must name exactly the SDS secret "default"/,
    ],
    ['TLS 1.0', (t) => (t.typedConfig.commonTlsContext.tlsParams.tlsMinimumProtocolVersion = 'TLSv1_0'), /TLS older than 1.2 is never used/],
    ['another transport socket', (t) => (t.name = 'envoy.transport_sockets.raw_buffer'), /only envoy.transport_sockets.tls is supported/],
  ];
  for (const [name, mutate, expected] of cases) {
    const r = decodeListener(
      inbound((l) => {
        const t = downstream() as Mutable;
        mutate(t);
        l.filterChains[0].transportSocket = t;
      }),
    );
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(formatProblems(r.error), expected, name);
  }
});

test('a cluster with an UpstreamTlsContext expects exactly its SPIFFE IDs', () => {
  const raw = wire(CLUSTER, {
    name: 'outbound|8080||web.default',
    type: 'EDS',
    edsClusterConfig: { edsConfig: ads },
    transportSocket: upstream(['spiffe://trellis.local/ns/default/sa/web']),
  });
  const r = decodeCluster(raw);
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value.config.tls, { sans: ['spiffe://trellis.local/ns/default/sa/web'] });
  const prefix = wire(CLUSTER, {
    name: 'c',
    type: 'EDS',
    edsClusterConfig: { edsConfig: ads },
    transportSocket: (() => {
      const u = upstream(['x']);
      u.typedConfig.commonTlsContext.combinedValidationContext.defaultValidationContext.matchTypedSubjectAltNames = [{ sanType: 'URI', matcher: { prefix: 'spiffe://' } }];
      return u;
    })(),
  });
  const bad = decodeCluster(prefix);
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(formatProblems(bad.error), /only URI SANs matched exactly are supported/);
});
