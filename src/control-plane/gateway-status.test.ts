// Gateway API status as the REST API answers it: conditions and reasons of GatewayClass, Gateway (and its listeners) and routes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyStatus } from '../api/proxy-status.js';
import { resourceStatus } from './gateway-status.js';
import { gateway, gatewayParent, gatewayRoute, tlsSecret, trellisClass } from './translator/gateway-fixtures.js';
import { input, service } from './translator/test-fixtures.js';
import type { MeshState } from './translator/index.js';

const edge = gateway('edge', [
  { name: 'http', port: 8080, protocol: 'HTTP', hostname: '*.example.com' },
  { name: 'https', port: 8443, protocol: 'HTTPS', hostname: 'shop.example.com', certs: ['missing'] },
]);
const ok = gatewayRoute('ok', [gatewayParent('edge')], { hostnames: ['shop.example.com'] });
const elsewhere = gatewayRoute('elsewhere', [gatewayParent('edge', { sectionName: 'http' })], { hostnames: ['a.example.org'] });
elsewhere.spec.rules[0]!.backendRefs[0]!.name = 'ghost';
const state: MeshState = {
  ...input({ services: [service('shop')], httpRoutes: [ok, elsewhere] }),
  gatewayClasses: [trellisClass()],
  gateways: [edge],
  secrets: [tlsSecret('other')],
};

const versions = { listeners: 'l1', routes: 'r1', clusters: 'c1', endpoints: 'e1' };
const gatewayProxy = (over: Partial<ProxyStatus> = {}): ProxyStatus => ({
  id: 'gw',
  kind: 'gateway',
  service: 'edge',
  namespace: 'default',
  address: '127.0.0.1',
  connected: true,
  lastSeen: '',
  versions,
  current: versions,
  nacks: [],
  ...over,
});

type Cond = { type: string; status: string; reason: string };
const cond = (conditions: Cond[], type: string) => {
  const c = conditions.find((x) => x.type === type)!;
  return `${c.status}/${c.reason}`;
};

test('a Trellis GatewayClass is Accepted; another controller’s gets no status from Trellis', () => {
  assert.deepEqual(
    resourceStatus(state, () => [], trellisClass()),
    { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'run by trellis.dev/gateway-controller' }] },
  );
  assert.equal(
    resourceStatus(state, () => [], trellisClass('other', 'example.com/x')),
    undefined,
  );
});

test('a Gateway is Programmed only when a gateway proxy of its name has applied the current config', () => {
  const status = (proxies: ProxyStatus[]) => resourceStatus(state, () => proxies, edge) as { conditions: Cond[] };
  assert.equal(cond(status([]).conditions, 'Programmed'), 'False/NoResources');
  assert.equal(cond(status([gatewayProxy({ current: { ...versions, routes: 'r2' } })]).conditions, 'Programmed'), 'False/Pending');
  assert.equal(cond(status([gatewayProxy({ connected: false })]).conditions, 'Programmed'), 'False/NoResources');
  assert.equal(cond(status([gatewayProxy()]).conditions, 'Programmed'), 'True/Programmed');
  assert.equal(cond(status([gatewayProxy()]).conditions, 'Accepted'), 'True/Accepted');
});

test('listeners carry attachedRoutes, supportedKinds and their conditions (InvalidCertificateRef, not Programmed)', () => {
  const s = resourceStatus(state, () => [gatewayProxy()], edge) as { listeners: { name: string; attachedRoutes: number; supportedKinds: unknown[]; conditions: Cond[] }[] };
  const [http, https] = s.listeners;
  assert.equal(http!.attachedRoutes, 1);
  assert.deepEqual(http!.supportedKinds, [
    { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
    { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' },
  ]);
  assert.equal(cond(http!.conditions, 'Programmed'), 'True/Programmed');
  assert.equal(cond(https!.conditions, 'ResolvedRefs'), 'False/InvalidCertificateRef');
  assert.equal(cond(https!.conditions, 'Programmed'), 'False/Invalid');
  assert.equal(cond(https!.conditions, 'Conflicted'), 'False/NoConflicts');
  assert.equal(https!.attachedRoutes, 0);
});

test('a route’s parents say Accepted or why not (NoMatchingListenerHostname) and ResolvedRefs (BackendNotFound)', () => {
  const a = resourceStatus(state, () => [], ok) as { parents: { parentRef: unknown; controllerName: string; conditions: Cond[] }[] };
  assert.equal(a.parents[0]!.controllerName, 'trellis.dev/gateway-controller');
  assert.deepEqual(a.parents[0]!.parentRef, gatewayParent('edge'));
  assert.equal(cond(a.parents[0]!.conditions, 'Accepted'), 'True/Accepted');
  assert.equal(cond(a.parents[0]!.conditions, 'ResolvedRefs'), 'True/ResolvedRefs');
  const b = resourceStatus(state, () => [], elsewhere) as { parents: { conditions: Cond[] }[] };
  assert.equal(cond(b.parents[0]!.conditions, 'Accepted'), 'False/NoMatchingListenerHostname');
  assert.equal(cond(b.parents[0]!.conditions, 'ResolvedRefs'), 'False/BackendNotFound');
});

test('a route with only Service parents and a Service have no status', () => {
  assert.equal(
    resourceStatus(state, () => [], gatewayRoute('mesh', [])),
    undefined,
  );
  assert.equal(
    resourceStatus(state, () => [], service('shop')),
    undefined,
  );
});
