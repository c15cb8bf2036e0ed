import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER, CLUSTER_LOAD_ASSIGNMENT, LISTENER, ROUTE_CONFIGURATION } from '../../xds/type-urls.js';
import { AdsState, type ResourceKind } from './ads-state.js';
import { formatProblems } from './errors.js';
import { cla, edsCluster, httpListener, prefixRoute, routeConfig, staticCluster, tcpListener, wireResources } from './xds-fixtures.js';

const C = 'outbound|8080||payments.default';
const RT = 'outbound|payments.default:8080';
const MSG: Record<ResourceKind, string> = { clusters: CLUSTER, endpoints: CLUSTER_LOAD_ASSIGNMENT, listeners: LISTENER, routes: ROUTE_CONFIGURATION };

/** Resources as they come out of a DiscoveryResponse: encoded, decoded, with `@type`. */
const res = (kind: ResourceKind, ...rs: object[]): unknown[] => wireResources(MSG[kind], ...rs);

function accept(state: AdsState, kind: ResourceKind, version: string, ...rs: object[]): void {
  const c = state.prepare(kind, version, res(kind, ...rs));
  assert.ok(c.ok, !c.ok ? formatProblems(c.error) : '');
  state.commit(c.value);
}

function warm(): AdsState {
  const s = new AdsState();
  accept(s, 'clusters', 'c1', edsCluster(C), staticCluster('inbound|3000', 3000));
  accept(s, 'endpoints', 'e1', cla(C, [['10.0.0.1', 15006]]));
  accept(s, 'listeners', 'l1', httpListener('outbound|127.0.0.1:9001', 9001, RT));
  accept(s, 'routes', 'r1', routeConfig(RT, [prefixRoute('/', C)]));
  return s;
}

test('subscriptions follow the accepted clusters and listeners; CDS and LDS are wildcard', () => {
  const s = new AdsState();
  assert.deepEqual(s.subscription('clusters'), []);
  assert.deepEqual(s.subscription('endpoints'), []);
  accept(s, 'clusters', 'c1', edsCluster(C), staticCluster('inbound|3000', 3000));
  assert.deepEqual(s.subscription('endpoints'), [C]);
  accept(s, 'listeners', 'l1', httpListener('a', 9001, RT), httpListener('b', 9002, RT), tcpListener('t', 9003, C));
  assert.deepEqual(s.subscription('routes'), [RT]);
});

test('a warmed-up state builds the full runtime config with endpoints filled in', () => {
  const s = warm();
  assert.ok(s.isWarm());
  const cfg = s.config;
  assert.deepEqual(cfg.versions, { clusters: 'c1', endpoints: 'e1', listeners: 'l1', routes: 'r1' });
  assert.deepEqual(cfg.clusters.get(C)?.endpoints, [{ address: '10.0.0.1', port: 15006, healthy: true, weight: 1 }]);
  assert.deepEqual([...cfg.listeners.keys()], ['outbound|127.0.0.1:9001']);
  assert.deepEqual([...cfg.routes.keys()], [RT]);
});

test('an EDS cluster whose endpoints have not arrived has none, and the state is not warm', () => {
  const s = new AdsState();
  accept(s, 'clusters', 'c1', edsCluster(C));
  assert.deepEqual(s.config.clusters.get(C)?.endpoints, []);
  accept(s, 'listeners', 'l1');
  assert.equal(s.isWarm(), false);
});

test('a listener whose route table has not arrived is applied without it', () => {
  const s = new AdsState();
  accept(s, 'clusters', 'c1');
  accept(s, 'listeners', 'l1', httpListener('a', 9001, RT));
  assert.ok(s.config.listeners.has('a'));
  assert.equal(s.config.routes.has(RT), false);
  assert.equal(s.isWarm(), false);
});

test('a TCP listener to a missing cluster is refused', () => {
  const s = new AdsState();
  const c = s.prepare('listeners', 'l1', res('listeners', tcpListener('t', 9003, 'nope')));
  assert.ok(!c.ok);
  assert.equal(formatProblems(c.error), 'listener "t": filterChains[0].filters[0].typedConfig: cluster "nope" does not exist (not in the accepted clusters)');
});

test('a route to a missing cluster is refused, and the state is unchanged', () => {
  const s = warm();
  const c = s.prepare('routes', 'r2', res('routes', routeConfig(RT, [prefixRoute('/', 'gone')])));
  assert.ok(!c.ok && formatProblems(c.error).includes(`route "${RT}": virtualHosts[0].routes[0].route: cluster "gone" does not exist`));
  assert.equal(s.version('routes'), 'r1');
});

test('a cluster CDS removes while a route still uses it is kept until the route stops using it', () => {
  const s = warm();
  const c = s.prepare('clusters', 'c2', res('clusters', staticCluster('inbound|3000', 3000)));
  assert.ok(c.ok);
  assert.deepEqual(c.value.retainedNow, [C]);
  s.commit(c.value);
  assert.equal(s.version('clusters'), 'c2');
  assert.deepEqual(s.config.clusters.get(C)?.endpoints.length, 1, 'still in effect, endpoints included');
  accept(s, 'routes', 'r2', routeConfig(RT, [prefixRoute('/', 'inbound|3000')]));
  assert.deepEqual([...s.config.clusters.keys()], ['inbound|3000']);
  assert.deepEqual(s.subscription('endpoints'), []);
  assert.deepEqual(s.dump().resources.endpoints, []);
});

test('a retained cluster that CDS sends again is no longer retained', () => {
  const s = warm();
  accept(s, 'clusters', 'c2', staticCluster('inbound|3000', 3000));
  accept(s, 'clusters', 'c3', staticCluster('inbound|3000', 3000), edsCluster(C));
  accept(s, 'routes', 'r2', routeConfig(RT, [prefixRoute('/', 'inbound|3000')]));
  assert.ok(s.config.clusters.has(C));
});

test('two listeners on one address are refused', () => {
  const s = new AdsState();
  const c = s.prepare('listeners', 'l1', res('listeners', httpListener('a', 9001, RT), httpListener('b', 9001, RT)));
  assert.ok(!c.ok && formatProblems(c.error) === 'listener "b": address: 127.0.0.1:9001 is already used by listener "a"');
});

test('a resource of another type in a response is refused', () => {
  const s = new AdsState();
  const c = s.prepare('listeners', 'l1', res('clusters', edsCluster(C)));
  assert.ok(!c.ok);
  assert.equal(
    formatProblems(c.error),
    `listener "${C}": @type: must be type.googleapis.com/envoy.config.listener.v3.Listener in a response of that type, got "type.googleapis.com/envoy.config.cluster.v3.Cluster"`,
  );
});

test('a resource twice in one response is refused', () => {
  const s = new AdsState();
  const c = s.prepare('clusters', 'c1', res('clusters', edsCluster(C), edsCluster(C)));
  assert.ok(!c.ok && formatProblems(c.error) === `cluster "${C}": appears twice in the response`);
});

test('an RDS response updates only the tables it carries; an unrequested table is ignored', () => {
  const s = warm();
  accept(s, 'listeners', 'l2', httpListener('a', 9001, RT), httpListener('b', 9002, 'other'));
  accept(s, 'routes', 'r2', routeConfig('other', [prefixRoute('/x', C)]), routeConfig('stray', [prefixRoute('/', C)]));
  assert.deepEqual([...s.config.routes.keys()].sort(), ['other', RT]);
  assert.deepEqual(
    s
      .dump()
      .resources.routes.map((r) => r.name)
      .sort(),
    ['other', RT],
  );
});

test('a CDS response replaces the set, and endpoints of removed clusters are dropped', () => {
  const s = warm();
  accept(s, 'listeners', 'l2');
  accept(s, 'clusters', 'c2', staticCluster('inbound|3000', 3000));
  assert.deepEqual([...s.config.clusters.keys()], ['inbound|3000']);
  assert.deepEqual(s.dump().resources.endpoints, []);
  assert.deepEqual(s.dump().resources.routes, [], 'route tables no listener uses are dropped');
});

test('dump returns the raw accepted resources with their versions', () => {
  const d = warm().dump();
  assert.deepEqual(d.versions, { clusters: 'c1', endpoints: 'e1', listeners: 'l1', routes: 'r1' });
  assert.equal(d.resources.listeners[0]?.name, 'outbound|127.0.0.1:9001');
  assert.equal(d.resources.clusters.length, 2);
});
