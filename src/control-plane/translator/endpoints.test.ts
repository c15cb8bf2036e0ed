// Endpoints: which workloads a Service selects, at which port, with which health.
import { structToJson } from '../../xds/node-metadata.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from '../../api/resource.js';
import type { Workload } from '../registry/workload.js';
import { input, proxy, service, workload } from './test-fixtures.js';
import { translate } from './translate.js';

/** `workload@address:port HEALTH` of every endpoint of a cluster, as a client proxy sees it. */
function endpointsOf(services: Service[], workloads: Workload[], cluster: string): string[] {
  const s = translate(input({ services, workloads }), proxy('client-1', 'client'));
  const cla = s.endpoints.get(cluster);
  assert.ok(cla, `no endpoints for ${cluster}`);
  return cla.endpoints
    .flatMap((l) => l.lbEndpoints)
    .map((e) => {
      const a = e.endpoint.address.socketAddress;
      return `${String(structToJson(e.metadata?.filterMetadata?.trellis).workload)}@${a.address}:${a.portValue} ${e.healthStatus}`;
    });
}

test('a Service selects workloads whose labels include its selector, ordered by id', () => {
  const services = [service('echo', { selector: { app: 'echo', version: 'v2' } })];
  const workloads = [
    workload('w3', 'echo', { labels: { version: 'v2' }, address: '10.0.0.3' }),
    workload('w1', 'echo', { labels: { version: 'v1' }, address: '10.0.0.1' }),
    workload('w2', 'echo', { labels: { version: 'v2', extra: 'x' }, address: '10.0.0.2' }),
  ];
  assert.deepEqual(endpointsOf(services, workloads, 'outbound|8080||echo.default'), ['w2@10.0.0.2:15006 HEALTHY', 'w3@10.0.0.3:15006 HEALTHY']);
});

test("the app label is implied by the workload's service", () => {
  const workloads = [workload('w1', 'echo'), workload('w2', 'other')];
  assert.deepEqual(endpointsOf([service('echo')], workloads, 'outbound|8080||echo.default'), ['w1@10.0.0.1:15006 HEALTHY']);
});

test('a Service selects only workloads in its own namespace', () => {
  const services = [service('echo', { namespace: 'prod' })];
  const workloads = [workload('w1', 'echo'), workload('w2', 'echo', { namespace: 'prod', address: '10.0.0.2' })];
  assert.deepEqual(endpointsOf(services, workloads, 'outbound|8080||echo.prod'), ['w2@10.0.0.2:15006 HEALTHY']);
});

test('an empty selector selects nothing', () => {
  assert.deepEqual(endpointsOf([service('echo', { selector: {} })], [workload('w1', 'echo')], 'outbound|8080||echo.default'), []);
});

test('the endpoint port is the inbound port in front of the targetPort; workloads without it are left out', () => {
  const services = [service('echo', { ports: [{ port: 80, targetPort: 3001 }] })];
  const workloads = [
    workload('w1', 'echo', {
      inbound: [
        { port: 15006, appPort: 3000 },
        { port: 15007, appPort: 3001 },
      ],
    }),
    workload('w2', 'echo', {
      inbound: [
        { port: 15006, appPort: 3000 },
        { port: 15008, appPort: 3002 },
      ],
    }),
  ];
  assert.deepEqual(endpointsOf(services, workloads, 'outbound|80||echo.default'), ['w1@10.0.0.1:15007 HEALTHY']);
});

test('a workload with a single inbound port serves the Service whatever its targetPort', () => {
  const workloads = [workload('w1', 'echo', { inbound: [{ port: 15006, appPort: 43123 }] })];
  assert.deepEqual(endpointsOf([service('echo')], workloads, 'outbound|8080||echo.default'), ['w1@10.0.0.1:15006 HEALTHY']);
});

test('a workload whose proxy is gone (within the grace period) is UNHEALTHY', () => {
  const workloads = [workload('w1', 'echo'), workload('w2', 'echo', { connected: false, address: '10.0.0.2' })];
  assert.deepEqual(endpointsOf([service('echo')], workloads, 'outbound|8080||echo.default'), ['w1@10.0.0.1:15006 HEALTHY', 'w2@10.0.0.2:15006 UNHEALTHY']);
});

test('every Service port has its own cluster and load assignment, even without workloads', () => {
  const s = translate(input({ services: [service('echo', { ports: [{ port: 80 }, { port: 81 }] })] }), proxy('c', 'client'));
  assert.deepEqual([...s.endpoints.keys()], ['outbound|80||echo.default', 'outbound|81||echo.default']);
  assert.deepEqual(s.endpoints.get('outbound|80||echo.default'), { clusterName: 'outbound|80||echo.default', endpoints: [] });
});

test("a workload claiming a Service's labels is not its endpoint unless the Service admits its identity", () => {
  const rogue = workload('rogue', 'evil', { labels: { app: 'payments' }, address: '10.0.0.9' });
  const real = workload('real', 'payments', { address: '10.0.0.1' });
  assert.deepEqual(endpointsOf([service('payments')], [rogue, real], 'outbound|8080||payments.default'), ['real@10.0.0.1:15006 HEALTHY']);
  // Admitted by name: the Service's own name, its selector's app, or the annotation's list.
  const byApp = service('payments-v2', { selector: { app: 'payments', version: 'v2' } });
  assert.deepEqual(endpointsOf([byApp], [workload('v2', 'payments', { labels: { version: 'v2' } })], 'outbound|8080||payments-v2.default'), ['v2@10.0.0.1:15006 HEALTHY']);
  const tiered = service('db', { selector: { tier: 'db' } });
  const pg = workload('pg', 'postgres', { labels: { tier: 'db' } });
  assert.deepEqual(endpointsOf([tiered], [pg], 'outbound|8080||db.default'), []);
  const listed = { ...tiered, metadata: { ...tiered.metadata, annotations: { 'trellis.io/service-accounts': 'mysql, postgres' } } };
  assert.deepEqual(endpointsOf([listed], [pg], 'outbound|8080||db.default'), ['pg@10.0.0.1:15006 HEALTHY']);
});

test("the refused workload's own snapshot says which Service refused its identity, and it gets none of that Service's inbound settings", () => {
  const i = input({ services: [service('payments')], workloads: [workload('rogue', 'evil', { labels: { app: 'payments' } })] });
  const s = translate(i, proxy('rogue', 'evil', { labels: { app: 'payments' } }));
  assert.deepEqual(s.warnings, [
    'Service default/payments selects the labels of this workload but does not admit its identity evil: it admits payments (list more in the annotation trellis.io/service-accounts); not one of its endpoints',
  ]);
  assert.deepEqual(translate(i, proxy('real', 'payments')).warnings, []);
});

test('an endpoint serves only while its proxy reports it ready: not-ready and draining workloads are withdrawn, not UNHEALTHY', () => {
  const at = (readiness: Workload['readiness'], connected = true) => ({ ...workload(`w-${readiness}-${connected}`, 'echo', { connected }), ...(readiness ? { readiness } : {}) });
  const workloads = [at('ready'), at('not-ready'), at('draining'), at(undefined), at('ready', false), at('draining', false)];
  assert.deepEqual(endpointsOf([service('echo')], workloads, 'outbound|8080||echo.default'), [
    'w-ready-false@10.0.0.1:15006 UNHEALTHY',
    'w-ready-true@10.0.0.1:15006 HEALTHY',
    // A data plane that does not report readiness (Envoy) serves while its proxy is connected, as before.
    'w-undefined-true@10.0.0.1:15006 HEALTHY',
  ]);
});
