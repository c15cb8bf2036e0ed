import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGateway } from './gateway.js';
import { parseGatewayClass } from './gateway-class.js';
import { assertOk, assertProblem, assertRoundTrip, DELETE, withField } from './problem-assert.js';

const gateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'edge', namespace: 'web' },
  spec: {
    gatewayClassName: 'trellis',
    listeners: [
      { name: 'http', port: 8080, protocol: 'HTTP' },
      { name: 'shop', port: 8443, protocol: 'HTTPS', hostname: 'shop.example.com', tls: { certificateRefs: [{ name: 'shop-cert' }] } },
      { name: 'api', port: 8443, protocol: 'HTTPS', hostname: '*.api.example.com', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'api-cert' }] } },
    ],
  },
};

test('a Gateway parses with allowedRoutes defaulted to Same and certificateRefs made whole', () => {
  const g = assertOk(parseGateway(gateway));
  assert.deepEqual(g.spec.listeners[0], { name: 'http', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } });
  assert.deepEqual(g.spec.listeners[1]!.tls, { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'shop-cert' }] });
  assert.equal(g.metadata.namespace, 'web');
  assertRoundTrip(parseGateway, g);
});

test('allowedRoutes from Selector and kinds are kept', () => {
  const g = assertOk(
    parseGateway(
      withField(gateway, 'spec.listeners[0].allowedRoutes', {
        namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } },
        kinds: [{ kind: 'HTTPRoute' }],
      }),
    ),
  );
  assert.deepEqual(g.spec.listeners[0]!.allowedRoutes, {
    namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } },
    kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
  });
  assertRoundTrip(parseGateway, g);
});

test('TLS and TCP listeners are accepted by the schema (their status says what is supported)', () => {
  const raw = withField(withField(gateway, 'spec.listeners[3]', { name: 'pass', port: 9443, protocol: 'TLS', tls: { mode: 'Passthrough' } }), 'spec.listeners[4]', {
    name: 'db',
    port: 5432,
    protocol: 'TCP',
  });
  const g = assertOk(parseGateway(raw));
  assert.deepEqual(g.spec.listeners[3]!.tls, { mode: 'Passthrough', certificateRefs: [] });
});

const invalid: [string, string, unknown, string][] = [
  ['no gatewayClassName', 'spec.gatewayClassName', DELETE, 'required'],
  ['no listeners', 'spec.listeners', [], 'must have at least 1 item(s), got 0'],
  ['a duplicate listener name', 'spec.listeners[2].name', 'shop', 'duplicate listener name "shop", already used by listeners[1]'],
  ['a listener port 0', 'spec.listeners[0].port', 0, 'must be >= 1, got 0'],
  ['an unknown protocol', 'spec.listeners[0].protocol', 'UDP', 'must be one of "HTTP", "HTTPS", "TLS", "TCP", got "UDP"'],
  ['an IP hostname', 'spec.listeners[1].hostname', '10.0.0.1', 'not an IP address'],
  ['HTTPS without tls', 'spec.listeners[1].tls', DELETE, 'required for protocol HTTPS'],
  ['HTTPS with no certificate', 'spec.listeners[1].tls.certificateRefs', [], 'must name at least one Secret'],
  ['HTTPS passthrough', 'spec.listeners[1].tls.mode', 'Passthrough', 'must be "Terminate" for protocol HTTPS'],
  ['tls on HTTP', 'spec.listeners[0].tls', { certificateRefs: [{ name: 'x' }] }, 'must not be set for protocol HTTP'],
  ['a certificate that is not a Secret', 'spec.listeners[1].tls.certificateRefs[0].kind', 'ConfigMap', 'must be "Secret"'],
  ['a certificate group', 'spec.listeners[1].tls.certificateRefs[0].group', 'example.com', 'must be "" (the core group'],
  ['TLS options', 'spec.listeners[1].tls.options', {}, 'field "options" is not supported'],
  ['Selector without selector', 'spec.listeners[0].allowedRoutes', { namespaces: { from: 'Selector' } }, 'required when from is "Selector"'],
  ['an unknown route kind', 'spec.listeners[0].allowedRoutes', { kinds: [{ kind: 'UDPRoute' }] }, 'must be one of "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"'],
  ['addresses', 'spec.addresses', [{ value: '10.0.0.1' }], 'field "addresses" is not supported: a Trellis gateway listens on the address given to trellis gateway --address'],
  ['a misspelt listener field', 'spec.listeners[0].protocl', 'HTTP', 'did you mean "protocol"?'],
];
const paths: Record<string, string> = {
  'Selector without selector': 'spec.listeners[0].allowedRoutes.namespaces.selector',
  'an unknown route kind': 'spec.listeners[0].allowedRoutes.kinds[0].kind',
};
for (const [name, path, value, fragment] of invalid) {
  const at = paths[name] ?? path;
  test(`a Gateway with ${name} is refused at ${at}`, () => assertProblem(parseGateway(withField(gateway, path, value)), at, fragment));
}

const gatewayClass = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name: 'trellis' },
  spec: { controllerName: 'trellis.dev/gateway-controller' },
};

test('a GatewayClass parses and round-trips; it has no namespace', () => {
  const c = assertOk(parseGatewayClass(gatewayClass));
  assert.deepEqual(c.metadata, { name: 'trellis' });
  assertRoundTrip(parseGatewayClass, c);
  assertProblem(parseGatewayClass(withField(gatewayClass, 'metadata.namespace', 'web')), 'metadata.namespace', 'GatewayClass is not namespaced');
});

test('a GatewayClass refuses a controllerName that is not a domain-prefixed path, and parametersRef', () => {
  assertProblem(parseGatewayClass(withField(gatewayClass, 'spec.controllerName', 'trellis')), 'spec.controllerName', 'must be a domain-prefixed path');
  assertProblem(parseGatewayClass(withField(gatewayClass, 'spec.controllerName', DELETE)), 'spec.controllerName', 'required');
  assertProblem(parseGatewayClass(withField(gatewayClass, 'spec.parametersRef', {})), 'spec.parametersRef', 'not supported');
});
