// External hosts' clusters on the wire: STRICT_DNS host names, the DNS names the responder
// answers, and TLS origination; every refusal names its field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCluster } from './decode-cluster.js';
import { formatProblems } from './errors.js';
import { wireCluster } from './xds-fixtures.js';
import { jsonToStruct } from '../../xds/node-metadata.js';

const NAME = 'external|80||api.example.com';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

type Mutable = Record<string, any>;

function externalCluster(validation: object | undefined, extra: Mutable = {}): Mutable {
  return {
    name: NAME,
    type: 'STRICT_DNS',
    loadAssignment: { clusterName: NAME, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: 'api.example.com', portValue: 443 } } } }] }] },
    metadata: { filterMetadata: { trellis: jsonToStruct({ service: 'payments-api', namespace: 'shop', external: true, hosts: ['api.example.com'], vip: '240.240.0.9' }) } },
    ...(validation
      ? {
          transportSocket: {
            name: 'envoy.transport_sockets.tls',
            typedConfig: {
              '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
              sni: 'api.example.com',
              commonTlsContext: { validationContext: validation },
            },
          },
        }
      : {}),
    ...extra,
  };
}

test('a STRICT_DNS external cluster keeps its host name endpoint, is labelled by its ExternalService and answers its hosts with its virtual IP', () => {
  const r = decodeCluster(wireCluster(externalCluster(undefined)));
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.error));
  assert.equal(r.value.config.service, 'payments-api.shop');
  assert.deepEqual(r.value.config.virtualIp, { address: '240.240.0.9', names: ['api.example.com'] });
  assert.deepEqual(r.value.source, { type: 'static', endpoints: [{ address: 'api.example.com', port: 443, healthy: true, weight: 1 }] });
  assert.equal(r.value.config.origination, undefined);
  assert.equal(r.value.config.tls, undefined);
});

test('TLS origination with inline CAs decodes to the server name and the PEM', () => {
  const r = decodeCluster(
    wireCluster(externalCluster({ trustedCa: { inlineString: PEM }, matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: 'api.example.com' } }] })),
  );
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.error));
  assert.deepEqual(r.value.config.origination, { serverName: 'api.example.com', ca: PEM });
});

test("TLS origination with the system's CAs decodes without a CA (Node's default roots)", () => {
  const r = decodeCluster(wireCluster(externalCluster({ systemRootCerts: {} })));
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.error));
  assert.deepEqual(r.value.config.origination, { serverName: 'api.example.com' });
});

const refused: [string, Mutable, string][] = [
  ['no validation context', externalCluster({}), 'transportSocket.typedConfig.commonTlsContext.validationContext: must give trustedCa.inlineString or systemRootCerts'],
  ['a CA that is not PEM', externalCluster({ trustedCa: { inlineString: 'junk' } }), 'validationContext.trustedCa.inlineString: must be PEM certificates, got "junk"'],
  [
    'a SAN other than the server name',
    externalCluster({ systemRootCerts: {}, matchTypedSubjectAltNames: [{ sanType: 'DNS', matcher: { exact: 'evil.example.com' } }] }),
    'validationContext.matchTypedSubjectAltNames: only the DNS SAN equal to sni ("api.example.com") is supported',
  ],
  [
    'a client certificate',
    (() => {
      const c = externalCluster({ systemRootCerts: {} });
      c.transportSocket.typedConfig.commonTlsContext.tlsCertificateSdsSecretConfigs = [{ name: 'default' }];
      return c;
    })(),
    'transportSocket.typedConfig.commonTlsContext: client certificates to external hosts are not supported',
  ],
  [
    'no sni',
    (() => {
      const c = externalCluster({ systemRootCerts: {} });
      delete c.transportSocket.typedConfig.sni;
      return c;
    })(),
    'transportSocket.typedConfig.sni: required',
  ],
  [
    'no hosts in the metadata',
    externalCluster(undefined, { metadata: { filterMetadata: { trellis: jsonToStruct({ service: 'payments-api', namespace: 'shop', external: true }) } } }),
    'metadata.filterMetadata.trellis.hosts: must be a non-empty list',
  ],
  [
    'a host name endpoint in a STATIC cluster',
    externalCluster(undefined, { type: 'STATIC' }),
    'loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address: must be an IP address literal, got "api.example.com"',
  ],
  [
    'a STRICT_DNS endpoint that is not a host name',
    (() => {
      const c = externalCluster(undefined);
      c.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address = 'bad host!';
      return c;
    })(),
    'socketAddress.address: must be an IP address literal or a DNS host name, got "bad host!"',
  ],
];
for (const [what, cluster, expected] of refused) {
  test(`an external cluster with ${what} is refused: ${expected}`, () => {
    const r = decodeCluster(wireCluster(cluster));
    assert.ok(!r.ok && formatProblems(r.error).includes(expected), !r.ok ? formatProblems(r.error) : 'decoded');
  });
}
