// Which routes attach to which Gateway listener, and every reason one does not (the status conditions' reasons).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HTTPRoute } from '../../api/resource.js';
import { gateway, gatewayParent, gatewayRoute, tlsSecret, trellisClass } from './gateway-fixtures.js';
import { gatewayWorld, type GatewayWorld } from './gateway-attachment.js';
import { input, service } from './test-fixtures.js';
import type { Gateway } from '../../api/resource.js';

function world(gateways: Gateway[], httpRoutes: HTTPRoute[], secrets = [tlsSecret('shop-cert')]): GatewayWorld {
  return gatewayWorld({ ...input({ services: [service('shop')], httpRoutes }), gatewayClasses: [trellisClass()], gateways, secrets });
}

const edge = gateway('edge', [
  { name: 'http', port: 8080, protocol: 'HTTP', hostname: '*.example.com' },
  { name: 'https', port: 8443, protocol: 'HTTPS', hostname: 'shop.example.com', certs: ['shop-cert'] },
]);
const parentOf = (w: GatewayWorld, route: string, ns = 'default') => w.routeParents.get(`HTTPRoute/${ns}/${route}`)![0]!;
const listenerOf = (w: GatewayWorld, name: string) => w.gateways.get('default/edge')!.listeners.find((l) => l.listener.name === name)!;

test('a route attaches to every listener whose host name it shares, narrowed to the more specific name', () => {
  const w = world([edge], [gatewayRoute('shop', [gatewayParent('edge')], { hostnames: ['shop.example.com'] })]);
  assert.deepEqual(parentOf(w, 'shop'), { parentRef: gatewayParent('edge') });
  assert.deepEqual(listenerOf(w, 'http').routes[0]!.hostnames, ['shop.example.com']);
  assert.equal(listenerOf(w, 'https').routes.length, 1);
});

test('sectionName and port pick listeners; naming none that exists is NoMatchingParent', () => {
  const w = world(
    [edge],
    [
      gatewayRoute('only-https', [gatewayParent('edge', { sectionName: 'https' })], { hostnames: ['shop.example.com'] }),
      gatewayRoute('by-port', [gatewayParent('edge', { port: 8080 })]),
      gatewayRoute('no-section', [gatewayParent('edge', { sectionName: 'grpc' })]),
      gatewayRoute('no-gateway', [gatewayParent('nope')]),
    ],
  );
  assert.deepEqual(
    listenerOf(w, 'https').routes.map((r) => r.route.resource.metadata.name),
    ['only-https'],
  );
  assert.deepEqual(
    listenerOf(w, 'http').routes.map((r) => [r.route.resource.metadata.name, r.hostnames]),
    [['by-port', ['*.example.com']]],
  );
  assert.equal(parentOf(w, 'no-section').notAccepted?.reason, 'NoMatchingParent');
  assert.match(parentOf(w, 'no-section').notAccepted!.message, /has no listener named grpc/);
  assert.equal(parentOf(w, 'no-gateway').notAccepted?.reason, 'NoMatchingParent');
});

test('a route whose host names no listener shares is NoMatchingListenerHostname', () => {
  const w = world([edge], [gatewayRoute('elsewhere', [gatewayParent('edge')], { hostnames: ['shop.example.org'] })]);
  assert.equal(parentOf(w, 'elsewhere').notAccepted?.reason, 'NoMatchingListenerHostname');
  assert.equal(listenerOf(w, 'http').routes.length, 0);
});

test('allowedRoutes: Same refuses another namespace (NotAllowedByListeners), All and a Selector on the namespace name take it', () => {
  const from = (ns: Gateway['spec']['listeners'][number]['allowedRoutes']['namespaces']) =>
    gateway('edge', [{ name: 'http', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: ns } }]);
  const route = gatewayRoute('shop', [gatewayParent('edge', { namespace: 'default' })], { namespace: 'shop' });
  assert.equal(parentOf(world([from({ from: 'Same' })], [route]), 'shop', 'shop').notAccepted?.reason, 'NotAllowedByListeners');
  assert.equal(parentOf(world([from({ from: 'All' })], [route]), 'shop', 'shop').notAccepted, undefined);
  const selector = (name: string) => from({ from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
  assert.equal(parentOf(world([selector('shop')], [route]), 'shop', 'shop').notAccepted, undefined);
  assert.equal(parentOf(world([selector('web')], [route]), 'shop', 'shop').notAccepted?.reason, 'NotAllowedByListeners');
});

test('a backend that does not exist is ResolvedRefs BackendNotFound (the route still attaches)', () => {
  const w = world([edge], [gatewayRoute('ghost', [gatewayParent('edge')], { to: 'ghost' })]);
  assert.deepEqual(parentOf(w, 'ghost').unresolved, { reason: 'BackendNotFound', message: 'rules[0].backendRefs[0]: Service default/ghost does not exist' });
  assert.equal(parentOf(w, 'ghost').notAccepted, undefined);
});

test('listener reasons: UnsupportedProtocol, PortUnavailable with ProtocolConflict, HostnameConflict', () => {
  const g = gateway('edge', [
    { name: 'http', port: 8080, protocol: 'HTTP' },
    { name: 'tls', port: 9443, protocol: 'TLS', tls: { mode: 'Passthrough', certificateRefs: [] } },
    { name: 'clash', port: 8080, protocol: 'HTTPS', certs: ['shop-cert'] },
    { name: 'twin', port: 8080, protocol: 'HTTP' },
  ]);
  const w = world([g], []);
  assert.equal(listenerOf(w, 'http').served, true);
  assert.equal(listenerOf(w, 'tls').notAccepted?.reason, 'UnsupportedProtocol');
  assert.equal(listenerOf(w, 'clash').notAccepted?.reason, 'PortUnavailable');
  assert.equal(listenerOf(w, 'clash').conflicted?.reason, 'ProtocolConflict');
  assert.equal(listenerOf(w, 'twin').conflicted?.reason, 'HostnameConflict');
  assert.equal(listenerOf(w, 'twin').served, false);
});

test('certificate reasons: a missing Secret is InvalidCertificateRef, another namespace RefNotPermitted; a TCPRoute kind on HTTP is InvalidRouteKinds', () => {
  const g = gateway('edge', [
    { name: 'missing', port: 8443, protocol: 'HTTPS', hostname: 'a.example.com', certs: ['nope'] },
    {
      name: 'foreign',
      port: 8443,
      protocol: 'HTTPS',
      hostname: 'b.example.com',
      tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'shop-cert', namespace: 'vault' }] },
    },
    { name: 'kinds', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }] } },
  ]);
  const w = world([g], [gatewayRoute('r', [gatewayParent('edge', { sectionName: 'kinds' })])]);
  assert.equal(listenerOf(w, 'missing').unresolved?.reason, 'InvalidCertificateRef');
  assert.equal(listenerOf(w, 'missing').served, false);
  assert.equal(listenerOf(w, 'foreign').unresolved?.reason, 'RefNotPermitted');
  assert.equal(listenerOf(w, 'kinds').unresolved?.reason, 'InvalidRouteKinds');
  assert.equal(parentOf(w, 'r').notAccepted?.reason, 'NotAllowedByListeners', 'an HTTPRoute is not among the kinds it allows');
});

test('a Gateway of a missing class or another controller is not accepted, and its routes find no parent', () => {
  const w = world([gateway('edge', [{ name: 'http', port: 8080, protocol: 'HTTP' }], { className: 'istio' })], [gatewayRoute('r', [gatewayParent('edge')])]);
  assert.equal(w.gateways.get('default/edge')!.notAccepted?.reason, 'Pending');
  assert.equal(parentOf(w, 'r').notAccepted?.reason, 'NoMatchingParent');
});

test('routes naming only Services have no Gateway parents', () => {
  assert.equal(world([edge], [gatewayRoute('mesh', [])]).routeParents.size, 0);
});
