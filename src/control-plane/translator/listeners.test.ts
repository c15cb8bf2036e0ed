// Listener layout: inbound protocol from the selecting Services, upstream listeners, HTTP proxy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Listener } from '../../xds/envoy-types.js';
import { checkSnapshot } from './consistency.js';
import { input, proxy, service } from './test-fixtures.js';
import { translate } from './translate.js';

/** `http -> <route table>` or `tcp -> <cluster>` for a listener. */
function summary(l: Listener | undefined): string {
  const f = l?.filterChains[0]?.filters[0];
  if (!f) return 'none';
  return f.name === 'envoy.filters.network.tcp_proxy' ? `tcp -> ${f.typedConfig.cluster}` : `http -> ${f.typedConfig.rds?.routeConfigName}`;
}

const upstream = (service: string, port: number, localPort: number, namespace = 'default') => ({ service, namespace, port, localPort });

test('an inbound port that a tcp Service port targets gets tcp_proxy to the local app', () => {
  const mesh = input({ services: [service('db', { ports: [{ port: 5432, targetPort: 5432, appProtocol: 'tcp' }] })] });
  const s = translate(mesh, proxy('db-1', 'db', { inbound: [{ port: 15432, appPort: 5432 }] }));
  assert.equal(summary(s.listeners.get('inbound|15432')), 'tcp -> inbound|5432');
  assert.equal(s.routes.size, 0);
  assert.deepEqual(checkSnapshot(s), []);
});

test('an upstream to a tcp Service port gets tcp_proxy to its EDS cluster', () => {
  const mesh = input({ services: [service('db', { ports: [{ port: 5432, appProtocol: 'tcp' }] })] });
  const s = translate(mesh, proxy('c-1', 'client', { upstreams: [upstream('db', 5432, 9001)] }));
  const l = s.listeners.get('outbound|127.0.0.1:9001');
  assert.equal(summary(l), 'tcp -> outbound|5432||db.default');
  assert.deepEqual(l?.address, { socketAddress: { address: '127.0.0.1', portValue: 9001 } });
  assert.equal(l?.trafficDirection, 'OUTBOUND');
  assert.deepEqual(checkSnapshot(s), []);
});

test("upstreams to http, http2 and grpc Service ports get HTTP listeners with the port's route table", () => {
  const mesh = input({ services: [service('api', { ports: [{ port: 80 }, { port: 81, appProtocol: 'http2' }, { port: 82, appProtocol: 'grpc' }] })] });
  const s = translate(mesh, proxy('c-1', 'client', { upstreams: [upstream('api', 80, 9001), upstream('api', 81, 9002), upstream('api', 82, 9003)] }));
  assert.deepEqual(
    [9001, 9002, 9003].map((p) => summary(s.listeners.get(`outbound|127.0.0.1:${p}`))),
    ['http -> outbound|api.default:80', 'http -> outbound|api.default:81', 'http -> outbound|api.default:82'],
  );
  assert.deepEqual(checkSnapshot(s), []);
});

test('an upstream to an unknown Service or port gets no listener and a warning', () => {
  const mesh = input({ services: [service('api')] });
  const s = translate(mesh, proxy('c-1', 'client', { upstreams: [upstream('nope', 8080, 9001), upstream('api', 9999, 9002), upstream('api', 8080, 9003, 'other')] }));
  assert.deepEqual([...s.listeners.keys()], ['inbound|15006']);
  assert.deepEqual(s.warnings, [
    'upstream nope.default:8080 on local port 9001: Service default/nope does not exist; no listener for it',
    'upstream api.default:9999 on local port 9002: Service default/api has no port 9999 (it has 8080); no listener for it',
    'upstream api.other:8080 on local port 9003: Service other/api does not exist; no listener for it',
  ]);
});

test('an inbound port no Service targets is HTTP by default', () => {
  const s = translate(
    input({}),
    proxy('x-1', 'x', {
      inbound: [
        { port: 15006, appPort: 3000 },
        { port: 15007, appPort: 3001 },
      ],
    }),
  );
  assert.equal(summary(s.listeners.get('inbound|15006')), 'http -> inbound|15006');
  assert.equal(summary(s.listeners.get('inbound|15007')), 'http -> inbound|15007');
  assert.deepEqual(s.listeners.get('inbound|15006')?.address, { socketAddress: { address: '10.0.0.1', portValue: 15006 } });
  assert.equal(s.listeners.get('inbound|15006')?.trafficDirection, 'INBOUND');
  assert.deepEqual(checkSnapshot(s), []);
});

test('only Services that select the proxy decide its inbound protocol', () => {
  const services = [
    service('db', { ports: [{ port: 5432, targetPort: 3000, appProtocol: 'tcp' }] }), // selects app=db, not this proxy
    service('db', { namespace: 'other', selector: { app: 'web' }, ports: [{ port: 5432, targetPort: 3000, appProtocol: 'tcp' }] }), // other namespace
  ];
  const s = translate(input({ services }), proxy('web-1', 'web', { inbound: [{ port: 15006, appPort: 3000 }] }));
  assert.equal(summary(s.listeners.get('inbound|15006')), 'http -> inbound|15006');
});

test("when Services disagree about a port's protocol it is served as tcp, with a warning", () => {
  const services = [
    service('a', { selector: { app: 'w' }, ports: [{ port: 80, targetPort: 3000 }] }),
    service('b', { selector: { app: 'w' }, ports: [{ port: 81, targetPort: 3000, appProtocol: 'tcp' }] }),
  ];
  const s = translate(input({ services }), proxy('w-1', 'w', { inbound: [{ port: 15006, appPort: 3000 }] }));
  assert.equal(summary(s.listeners.get('inbound|15006')), 'tcp -> inbound|3000');
  assert.deepEqual(s.warnings, ['inbound port 15006 (app port 3000) is declared with different protocols by a.default:80 (http), b.default:81 (tcp); it is served as tcp']);
});

test('the HTTP proxy listener routes every HTTP Service port by its mesh names, tcp ports not at all', () => {
  const services = [service('api', { ports: [{ port: 80 }, { port: 5432, appProtocol: 'tcp' }] }), service('pay', { namespace: 'prod' })];
  const s = translate(input({ services }), proxy('c-1', 'client', { httpProxyPort: 15001 }));
  assert.equal(summary(s.listeners.get('outbound|http-proxy')), 'http -> outbound|http-proxy');
  assert.deepEqual(s.listeners.get('outbound|http-proxy')?.address, { socketAddress: { address: '127.0.0.1', portValue: 15001 } });
  const vhosts = s.routes.get('outbound|http-proxy')!.virtualHosts;
  assert.deepEqual(
    vhosts.map((v) => [v.name, v.domains]),
    [
      [
        'api.default:80',
        [
          'api:80',
          'api',
          'api.default:80',
          'api.default',
          'api.default.svc:80',
          'api.default.svc',
          'api.default.svc.cluster.local:80',
          'api.default.svc.cluster.local',
          'api.mesh:80',
          'api.mesh',
        ],
      ],
      ['pay.prod:8080', ['pay.prod:8080', 'pay.prod.svc:8080', 'pay.prod.svc.cluster.local:8080', 'pay.prod.mesh:8080']],
    ],
  );
  assert.deepEqual(checkSnapshot(s), []);
});

test('a proxy without httpProxyPort has no HTTP proxy listener or table', () => {
  const s = translate(input({ services: [service('api')] }), proxy('c-1', 'client'));
  assert.equal(s.listeners.has('outbound|http-proxy'), false);
  assert.equal(s.routes.has('outbound|http-proxy'), false);
});

test('clusters follow MeshConfig: load balancer and connect timeout', () => {
  const s = translate(input({ services: [service('api')], meshConfig: { loadBalancer: 'LeastRequest', connectTimeoutMs: 1500 } }), proxy('c-1', 'client'));
  const c = s.clusters.get('outbound|8080||api.default');
  assert.equal(c?.lbPolicy, 'LEAST_REQUEST');
  assert.deepEqual(c?.connectTimeout, { seconds: 1, nanos: 500_000_000 });
});
