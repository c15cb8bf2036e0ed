import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTP_CONNECTION_MANAGER, ROUTER, typeUrl, DOWNSTREAM_TLS_CONTEXT } from '../../xds/type-urls.js';
import { decodeListener } from './decode-listener.js';
import { formatProblems } from './errors.js';

const hcm = {
  name: 'envoy.filters.network.http_connection_manager',
  typedConfig: {
    '@type': typeUrl(HTTP_CONNECTION_MANAGER),
    statPrefix: 'gateway_8443',
    codecType: 'AUTO',
    rds: { routeConfigName: 'gateway|8443', configSource: { ads: {}, resourceApiVersion: 'V3' } },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': typeUrl(ROUTER) } }],
  },
};
const tls = (...secrets: string[]) => ({
  name: 'envoy.transport_sockets.tls',
  typedConfig: {
    '@type': typeUrl(DOWNSTREAM_TLS_CONTEXT),
    commonTlsContext: {
      tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
      tlsCertificateSdsSecretConfigs: secrets.map((name) => ({ name, sdsConfig: { ads: {} } })),
      alpnProtocols: ['h2', 'http/1.1'],
    },
  },
});
const listener = (over: Record<string, unknown> = {}) => ({
  name: 'gateway|8443',
  address: { socketAddress: { address: '0.0.0.0', portValue: 8443 } },
  trafficDirection: 'OUTBOUND',
  filterChains: [
    { name: 'shop', filterChainMatch: { serverNames: ['shop.example.com'] }, filters: [hcm], transportSocket: tls('gateway~web~shop') },
    { name: 'api', filterChainMatch: { serverNames: ['*.api.example.com'] }, filters: [hcm], transportSocket: tls('gateway~web~api') },
  ],
  defaultFilterChain: { name: 'default', filters: [hcm], transportSocket: tls('gateway~web~shop') },
  ...over,
});

test('a gateway HTTPS listener decodes to its SNI table and one route table', () => {
  const r = decodeListener(listener());
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.error));
  assert.equal(r.value.protocol, 'http');
  if (r.value.protocol !== 'http') return;
  assert.equal(r.value.routeTable, 'gateway|8443');
  assert.equal(r.value.tls, undefined);
  assert.deepEqual(r.value.terminate, {
    chains: [
      { serverNames: ['shop.example.com'], secrets: ['gateway~web~shop'] },
      { serverNames: ['*.api.example.com'], secrets: ['gateway~web~api'] },
    ],
    defaultSecrets: ['gateway~web~shop'],
  });
});

test('a gateway chain asking client certificates, matching on more than SNI, or with other filters is refused', () => {
  const base = listener();
  const withClientCerts = structuredClone(base);
  (withClientCerts.filterChains[0]!.transportSocket.typedConfig as Record<string, unknown>).requireClientCertificate = { value: true };
  const r1 = decodeListener(withClientCerts);
  assert.match(r1.ok ? '' : formatProblems(r1.error), /client certificates at a gateway are not supported/);
  const byPort = structuredClone(base);
  (byPort.filterChains[1]!.filterChainMatch as Record<string, unknown>).destinationPort = { value: 1 };
  const r2 = decodeListener(byPort);
  assert.match(r2.ok ? '' : formatProblems(r2.error), /filterChains\[1\]\.filterChainMatch\.destinationPort.*serverNames only/);
  const mixed = structuredClone(base);
  mixed.filterChains[1]!.transportSocket = tls('default');
  const r3 = decodeListener(mixed);
  assert.match(r3.ok ? '' : formatProblems(r3.error), /must name only gateway~ secrets/);
});
