// ExternalServices in the translator: clusters (DNS or static, TLS origination), capture chains
// on each host's virtual IP whatever the outbound policy, and the HTTP proxy's virtual hosts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExternalService, type ExternalService } from '../../api/external-service.js';
import type { FilterChain, Listener } from '../../xds/envoy-types.js';
import { encodeMessage } from '../../xds/protos.js';
import { CLUSTER, LISTENER } from '../../xds/type-urls.js';
import { structToJson } from '../../xds/node-metadata.js';
import { checkSnapshot } from './consistency.js';
import { input, proxy, service } from './test-fixtures.js';
import { translate } from './translate.js';
import { externalTargets } from './external-services.js';

const capture = { inboundPort: 15006, outboundPort: 15001 };

function external(name: string, spec: object, namespace = 'default'): ExternalService {
  const r = parseExternalService({ apiVersion: 'trellis.dev/v1alpha1', kind: 'ExternalService', metadata: { name, namespace }, spec });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

const api = external('payments-api', { hosts: ['api.example.com'], ports: [{ port: 80, targetPort: 443, protocol: 'http' }], tls: { mode: 'Originate' } });
const plain = external('status', { hosts: ['status.example.com'], ports: [{ port: 80, protocol: 'http' }], endpoints: [{ address: '192.0.2.7', port: 8080 }] });
const db = external('db', {
  hosts: ['db.example.com'],
  ports: [
    { port: 5432, protocol: 'tcp' },
    { port: 443, protocol: 'https' },
  ],
});

function mesh(outboundPolicy: 'PassThrough' | 'Refuse' = 'Refuse') {
  return {
    ...input({ services: [service('payments')], meshConfig: { outboundPolicy } }),
    externalServices: [api, plain, db],
    virtualIps: new Map([
      ['default/payments', '240.240.0.10'],
      ['external/api.example.com', '240.240.0.20'],
      ['external/status.example.com', '240.240.0.21'],
      ['external/db.example.com', '240.240.0.22'],
    ]),
    security: { trustDomain: 'trellis.local' },
  };
}

function chain(l: Listener | undefined, name: string): string {
  const c: FilterChain | undefined = l?.filterChains.find((x) => x.name === name);
  const f = c?.filters.at(-1);
  if (!c || !f) return 'none';
  const target = f.name === 'envoy.filters.network.tcp_proxy' ? `tcp -> ${f.typedConfig.cluster}` : `http -> ${f.typedConfig.rds?.routeConfigName}`;
  const m = c.filterChainMatch;
  return `${m?.prefixRanges?.map((p) => `${p.addressPrefix}/${p.prefixLen.value}`).join(',')}:${m?.destinationPort?.value}${m?.applicationProtocols ? ` [${m.applicationProtocols.join(',')}]` : ''} ${target}`;
}

test('under Refuse, each declared host:port has chains on its virtual IP; the rest goes to the BlackHoleCluster', () => {
  const s = translate(mesh(), proxy('c-1', 'client', { capture }));
  const out = s.listeners.get('virtualOutbound');
  assert.equal(chain(out, 'outbound|240.240.0.20:80|http'), '240.240.0.20/32:80 [http/1.1,h2c] http -> external|api.example.com:80');
  assert.equal(chain(out, 'outbound|240.240.0.20:80|tcp'), 'none', 'an originating port takes no opaque bytes (they would be wrapped in TLS twice)');
  assert.equal(chain(out, 'outbound|240.240.0.21:80|http'), '240.240.0.21/32:80 [http/1.1,h2c] http -> external|status.example.com:80');
  assert.equal(chain(out, 'outbound|240.240.0.21:80|tcp'), '240.240.0.21/32:80 tcp -> external|80||status.example.com');
  assert.equal(chain(out, 'outbound|240.240.0.22:5432|tcp'), '240.240.0.22/32:5432 tcp -> external|5432||db.example.com');
  assert.equal(chain(out, 'outbound|240.240.0.22:443|tcp'), '240.240.0.22/32:443 tcp -> external|443||db.example.com', 'https is the app’s own TLS: relayed');
  const def = out?.defaultFilterChain?.filters[0]?.typedConfig;
  assert.equal(def && 'cluster' in def ? def.cluster : undefined, 'BlackHoleCluster');
  const table = s.routes.get('external|api.example.com:80');
  assert.deepEqual(table?.virtualHosts[0]?.domains, ['*']);
  assert.equal(table?.virtualHosts[0]?.routes[0]?.route?.cluster, 'external|80||api.example.com');
  assert.deepEqual(checkSnapshot(s), []);
  for (const l of s.listeners.values()) assert.ok(encodeMessage(LISTENER, l).length > 0);
});

test('clusters: DNS-resolved or static, labelled by the ExternalService, TLS origination with the system CAs and the host checked, never mesh mTLS', () => {
  const s = translate(mesh(), proxy('c-1', 'client', { capture }));
  const origin = s.clusters.get('external|80||api.example.com')!;
  assert.equal(origin.type, 'STRICT_DNS');
  assert.deepEqual(origin.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.endpoint.address.socketAddress, { address: 'api.example.com', portValue: 443 });
  assert.deepEqual(structToJson(origin.metadata?.filterMetadata?.trellis), {
    service: 'payments-api',
    namespace: 'default',
    port: 80,
    protocol: 'http',
    external: true,
    hosts: ['api.example.com'],
    vip: '240.240.0.20',
  });
  const tls = origin.transportSocket?.typedConfig;
  assert.ok(tls && 'sni' in tls);
  assert.equal(tls.sni, 'api.example.com');
  assert.deepEqual(tls.commonTlsContext.validationContext, { systemRootCerts: {}, matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: 'api.example.com' } }] });
  assert.equal(tls.commonTlsContext.tlsCertificateSdsSecretConfigs, undefined, 'no mesh certificate goes to an external host');
  const status = s.clusters.get('external|80||status.example.com')!;
  assert.equal(status.type, 'STATIC');
  assert.deepEqual(status.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.endpoint.address.socketAddress, { address: '192.0.2.7', portValue: 8080 });
  assert.equal(status.transportSocket, undefined, 'no TLS without origination, though the mesh runs mTLS');
  for (const c of s.clusters.values()) assert.ok(encodeMessage(CLUSTER, c).length > 0, c.name);
});

test('given CAs go inline as trustedCa and a given sni is sent and checked', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBezCCASGgAwIBAgIUOWFjCfWc8DIabABqpWrGFcwFqREwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n';
  const withCa: ExternalService = { ...api, spec: { ...api.spec, tls: { mode: 'Originate', sni: 'edge.example.net', caCertificates: pem } } };
  const s = translate({ ...mesh(), externalServices: [withCa] }, proxy('c-1', 'client', { capture }));
  const tls = s.clusters.get('external|80||api.example.com')?.transportSocket?.typedConfig;
  assert.ok(tls && 'sni' in tls);
  assert.equal(tls.sni, 'edge.example.net');
  assert.deepEqual(tls.commonTlsContext.validationContext, {
    trustedCa: { inlineString: pem },
    matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: 'edge.example.net' } }],
  });
});

test('explicit mode: the HTTP proxy listener routes declared http hosts by Host to their clusters', () => {
  const s = translate(mesh(), proxy('c-1', 'client', { httpProxyPort: 15080 }));
  const table = s.routes.get('outbound|http-proxy');
  const api = table?.virtualHosts.find((v) => v.name === 'api.example.com:80');
  assert.deepEqual(api?.domains, ['api.example.com', 'api.example.com:80']);
  assert.equal(api?.routes[0]?.route?.cluster, 'external|80||api.example.com');
  assert.equal(
    table?.virtualHosts.some((v) => v.domains.some((d) => d.startsWith('db.example.com'))),
    false,
    'tcp and https ports are not HTTP proxy hosts',
  );
  assert.equal(s.listeners.has('virtualOutbound'), false);
  assert.deepEqual(checkSnapshot(s), []);
});

test('a host declared by two ExternalServices belongs to the first by namespace and name, with a warning', () => {
  const again = external('another', { hosts: ['api.example.com'], ports: [{ port: 80, protocol: 'http' }] }, 'zeta');
  const { targets, warnings } = externalTargets([again, api]);
  assert.deepEqual(
    targets.map((t) => `${t.service.metadata.namespace}/${t.service.metadata.name} ${t.host}:${t.port.port}`),
    ['default/payments-api api.example.com:80'],
  );
  assert.deepEqual(warnings, ['ExternalService zeta/another: host api.example.com is already declared by ExternalService default/payments-api; this declaration is ignored']);
});

test('a host without a virtual IP (range full) gets its cluster but no capture chain', () => {
  const m = { ...mesh(), virtualIps: new Map([['default/payments', '240.240.0.10']]) };
  const s = translate(m, proxy('c-1', 'client', { capture }));
  assert.ok(s.clusters.has('external|80||api.example.com'));
  assert.equal(
    s.listeners.get('virtualOutbound')?.filterChains.some((c) => c.name?.startsWith('outbound|240.240.0.2')),
    false,
  );
  assert.deepEqual(checkSnapshot(s), []);
});
