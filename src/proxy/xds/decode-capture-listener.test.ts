// Capture listeners (transparent mode) decode their chains' mTLS transport sockets, RBAC
// filters before tcp_proxy, and the HCM's tracing, as the proxy's explicit listeners do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureListenerConfig } from '../config/runtime-config.js';
import { DOWNSTREAM_TLS_CONTEXT, HTTP_CONNECTION_MANAGER, LISTENER, NETWORK_RBAC, ORIGINAL_DST_FILTER, ROUTER, TCP_PROXY, typeUrl } from '../../xds/type-urls.js';
import { decodeListener } from './decode-listener.js';
import { formatProblems } from './errors.js';
import { wire } from './xds-fixtures.js';

type Mutable = Record<string, any>;
const ads = { ads: {}, resourceApiVersion: 'V3' };
const mtls = () => ({
  name: 'envoy.transport_sockets.tls',
  typedConfig: {
    '@type': typeUrl(DOWNSTREAM_TLS_CONTEXT),
    commonTlsContext: {
      tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
      tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: ads }],
      validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: ads },
      alpnProtocols: ['h2', 'http/1.1'],
    },
    requireClientCertificate: { value: true },
  },
});
const denyWeb = {
  action: 'DENY',
  policies: { 'default/no-web': { permissions: [{ any: true }], principals: [{ authenticated: { principalName: { exact: 'spiffe://t/ns/default/sa/web' } } }] } },
};
const tcp = (cluster: string) => ({ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': typeUrl(TCP_PROXY), statPrefix: 's', cluster } });
const hcm = () => ({
  name: 'envoy.filters.network.http_connection_manager',
  typedConfig: {
    '@type': typeUrl(HTTP_CONNECTION_MANAGER),
    statPrefix: 's',
    codecType: 'AUTO',
    rds: { routeConfigName: 'inbound|8080', configSource: ads },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': typeUrl(ROUTER) } }],
  },
});

function captured(mutate: (l: Mutable) => void = () => {}): Mutable {
  const l: Mutable = {
    name: 'virtualInbound',
    address: { socketAddress: { address: '0.0.0.0', portValue: 15006 } },
    trafficDirection: 'INBOUND',
    useOriginalDst: { value: true },
    listenerFilters: [{ name: 'envoy.filters.listener.original_dst', typedConfig: { '@type': typeUrl(ORIGINAL_DST_FILTER) } }],
    continueOnListenerFiltersTimeout: true,
    filterChains: [
      { name: 'inbound|8080|mtls', filterChainMatch: { destinationPort: { value: 8080 } }, filters: [hcm()], transportSocket: mtls() },
      {
        name: 'inbound|5432|mtls',
        filterChainMatch: { destinationPort: { value: 5432 }, transportProtocol: 'tls' },
        transportSocket: mtls(),
        filters: [{ name: 'envoy.filters.network.rbac', typedConfig: { '@type': typeUrl(NETWORK_RBAC), statPrefix: 's', rules: denyWeb } }, tcp('inbound|5432')],
      },
    ],
    defaultFilterChain: { name: 'inbound|PassthroughCluster', filters: [tcp('PassthroughCluster')] },
  };
  mutate(l);
  return wire(LISTENER, l);
}

test('capture chains keep their mTLS, their network RBAC and the passthrough default without either', () => {
  const r = decodeListener(captured());
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.error));
  const l = r.value as CaptureListenerConfig;
  const [http, db] = l.chains;
  assert.deepEqual(http?.tls, { mode: 'strict' });
  assert.equal(http?.authz, undefined);
  assert.deepEqual(db?.tls, { mode: 'strict' });
  assert.equal(db?.authz?.[0]?.action, 'deny');
  assert.deepEqual(db?.action, { kind: 'tcp', clusters: [{ cluster: 'inbound|5432', weight: 1 }] });
  assert.equal(l.defaultChain?.tls, undefined);
});

test('a capture chain whose TLS does not require client certificates is refused with its path', () => {
  const r = decodeListener(captured((l) => (l.filterChains[0].transportSocket.typedConfig.requireClientCertificate = { value: false })));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(formatProblems(r.error), /filterChains\[0\]\.transportSocket\.typedConfig\.requireClientCertificate: must be true/);
});

test('an RBAC network filter before an HTTP connection manager on a capture chain is refused', () => {
  const r = decodeListener(captured((l) => l.filterChains[0].filters.unshift(l.filterChains[1].filters[0])));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(formatProblems(r.error), /filterChains\[0\]\.filters: network RBAC filters go only before tcp_proxy/);
});

test('a capture listener on :: with ipv4Compat takes both families; a STRICT default chain keeps its mTLS and RBAC', () => {
  const r = decodeListener(
    captured((l) => {
      l.address = { socketAddress: { address: '::', portValue: 15006, ipv4Compat: true } };
      l.defaultFilterChain = { name: 'inbound|PassthroughCluster|mtls', transportSocket: mtls(), filters: [l.filterChains[1].filters[0], tcp('PassthroughCluster')] };
    }),
  );
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.error));
  const l = r.value as CaptureListenerConfig;
  assert.deepEqual([l.address, l.ipv4Compat], ['::', true]);
  assert.deepEqual(l.defaultChain?.tls, { mode: 'strict' });
  assert.equal(l.defaultChain?.authz?.[0]?.action, 'deny');
  const v6only = decodeListener(captured((l) => (l.address = { socketAddress: { address: '::', portValue: 15006 } })));
  assert.ok(v6only.ok && (v6only.value as CaptureListenerConfig).ipv4Compat === undefined, 'without ipv4Compat, IPv6 only (as in Envoy)');
});
