// The snapshot of a gateway node: listeners per port, SNI chains with SDS certificates, RDS virtual hosts by host name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DownstreamTlsContext } from '../../xds/tls-types.js';
import { gateway, gatewayParent, gatewayRoute, tlsSecret, trellisClass } from './gateway-fixtures.js';
import { gatewayPortName } from '../../xds/names.js';
import { checkSnapshot } from './consistency.js';
import { input, proxy, service, workload } from './test-fixtures.js';
import { translate } from './translate.js';
import type { TranslatorInput } from './types.js';

const edge = gateway('edge', [
  { name: 'http', port: 8080, protocol: 'HTTP' },
  { name: 'shop', port: 8443, protocol: 'HTTPS', hostname: 'shop.example.com', certs: ['shop-cert'] },
  { name: 'api', port: 8443, protocol: 'HTTPS', hostname: '*.api.example.com', certs: ['api-cert'] },
]);

function world(extra: Partial<TranslatorInput> = {}): TranslatorInput {
  return {
    ...input({
      services: [service('shop'), service('api')],
      httpRoutes: [
        gatewayRoute('shop', [gatewayParent('edge')], { hostnames: ['shop.example.com'], to: 'shop' }),
        gatewayRoute('api', [gatewayParent('edge', { sectionName: 'api' })], { hostnames: ['v1.api.example.com'], path: '/v1', to: 'api' }),
      ],
      workloads: [workload('shop-1', 'shop'), workload('api-1', 'api')],
    }),
    gatewayClasses: [trellisClass()],
    gateways: [edge],
    secrets: [tlsSecret('shop-cert'), tlsSecret('api-cert')],
    security: { trustDomain: 'trellis.local' },
    ...extra,
  };
}

const node = proxy('gw-1', 'edge', { kind: 'gateway', address: '0.0.0.0', inbound: [] });

test('a gateway node gets one listener per Gateway port on its address, routed by RDS, and the mesh clusters with mTLS', () => {
  const s = translate(world(), node);
  assert.deepEqual([...s.listeners.keys()], ['gateway|8080', 'gateway|8443']);
  const http = s.listeners.get('gateway|8080')!;
  assert.deepEqual(http.address, { socketAddress: { address: '0.0.0.0', portValue: 8080 } });
  assert.equal(http.trafficDirection, 'OUTBOUND');
  const hcm = http.filterChains[0]!.filters[0]!.typedConfig as { rds: { routeConfigName: string } };
  assert.equal(hcm.rds.routeConfigName, 'gateway|8080');
  assert.ok(s.clusters.get('outbound|8080||shop.default')?.transportSocket, 'backends are dialled with mTLS');
  assert.deepEqual(checkSnapshot(s), []);
});

test('HTTPS listeners on one port become chains by SNI naming their SDS certificates, with the first as default for clients without SNI', () => {
  const l = translate(world(), node).listeners.get('gateway|8443')!;
  assert.deepEqual(
    l.filterChains.map((c) => c.filterChainMatch?.serverNames),
    [['shop.example.com'], ['*.api.example.com']],
  );
  const sds = (c: { transportSocket?: { typedConfig: unknown } }) =>
    (c.transportSocket!.typedConfig as DownstreamTlsContext).commonTlsContext.tlsCertificateSdsSecretConfigs!.map((x) => x.name);
  assert.deepEqual(sds(l.filterChains[0]!), ['gateway~default~shop-cert']);
  assert.deepEqual(sds(l.filterChains[1]!), ['gateway~default~api-cert']);
  assert.equal(l.defaultFilterChain?.filterChainMatch, undefined);
  assert.deepEqual(sds(l.defaultFilterChain!), ['gateway~default~shop-cert']);
  assert.equal((l.filterChains[0]!.transportSocket!.typedConfig as DownstreamTlsContext).requireClientCertificate, undefined, 'outside clients have no certificate');
});

test('the gateway gets its certificates and keys as SDS secrets; a sidecar gets none of them', () => {
  const s = translate(world(), node);
  const shop = s.gatewaySecrets?.get('gateway~default~shop-cert');
  assert.deepEqual(shop, {
    name: 'gateway~default~shop-cert',
    tlsCertificate: { certificateChain: { inlineString: 'CERT shop-cert' }, privateKey: { inlineString: 'KEY shop-cert' } },
  });
  assert.equal(translate(world(), proxy('shop-1', 'shop')).gatewaySecrets, undefined);
});

test('a listener without hostname takes clients without SNI itself: no extra default chain', () => {
  const g = gateway('edge', [
    { name: 'any', port: 8443, protocol: 'HTTPS', certs: ['shop-cert'] },
    { name: 'api', port: 8443, protocol: 'HTTPS', hostname: '*.api.example.com', certs: ['api-cert'] },
  ]);
  const l = translate(world({ gateways: [g] }), node).listeners.get('gateway|8443')!;
  assert.equal(l.defaultFilterChain, undefined);
  assert.equal(l.filterChains[0]!.filterChainMatch, undefined);
});

test('each port has one virtual host per host name, with the routes attached there in precedence order', () => {
  const s = translate(world(), node);
  const https = s.routes.get(gatewayPortName(8443))!;
  assert.deepEqual(
    https.virtualHosts.map((v) => v.domains),
    [['shop.example.com'], ['v1.api.example.com']],
  );
  const api = https.virtualHosts[1]!.routes[0]!;
  assert.deepEqual(api.match, { pathSeparatedPrefix: '/v1' });
  assert.equal(api.route?.cluster, 'outbound|8080||api.default');
  // The shop route names no section: it attaches to every listener that accepts its host name (HTTP has none, so any).
  assert.deepEqual(
    s.routes.get('gateway|8080')!.virtualHosts.map((v) => v.domains),
    [['shop.example.com']],
  );
});

test('a redirect rule to https is translated like a mesh route: a redirect, no backend', () => {
  const redirect = gatewayRoute('to-https', [gatewayParent('edge', { sectionName: 'http' })], { hostnames: ['shop.example.com'] });
  redirect.spec.rules = [
    {
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      backendRefs: [],
      filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', port: 8443, statusCode: 301 } }],
    },
  ];
  const s = translate(world({ httpRoutes: [redirect] }), node);
  const route = s.routes.get('gateway|8080')!.virtualHosts[0]!.routes[0]!;
  assert.equal(route.route, undefined);
  assert.deepEqual(route.redirect, { schemeRedirect: 'https', portRedirect: 8443, responseCode: 'MOVED_PERMANENTLY' });
});

test('without its Gateway, or with a class Trellis does not run, a gateway has no listeners and says why', () => {
  const none = translate(world({ gateways: [] }), node);
  assert.equal(none.listeners.size, 0);
  assert.ok(none.warnings.some((w) => w.includes('no Gateway default/edge')));
  const other = translate(world({ gatewayClasses: [trellisClass('trellis', 'example.com/other')] }), node);
  assert.equal(other.listeners.size, 0);
  assert.ok(other.warnings.some((w) => w.includes('is run by example.com/other')));
});

test('an HTTPS listener whose Secret does not exist is not served; the others are', () => {
  const s = translate(world({ secrets: [tlsSecret('shop-cert')] }), node);
  assert.deepEqual(
    s.listeners.get('gateway|8443')!.filterChains.map((c) => c.name),
    ['shop'],
  );
  assert.ok(s.warnings.some((w) => w.includes('listener api: not served')));
});
