// Issue 15, Gateway API status seen the way an operator sees it (`trellis get -o yaml`): a route
// attached to a Gateway (Accepted, traffic flows), then given a host name no listener accepts
// (NoMatchingListenerHostname, 404, and `trellis check` says so), a backend that does not exist (BackendNotFound), detached
// by removing its parentRef and deleted; the Gateway Programmed once its gateway proxy applied it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { waitFor } from '../../src/common/wait.js';
import { freePorts } from '../../src/common/free-port.js';
import { api, applyResources, httpService, runCli, startControlPlane, startWorkload, type ControlPlane } from './harness.js';
import { curl, gatewayClass, gatewayDoc, routeDoc, startGateway } from './gateway-harness.js';

type Cond = { type: string; status: string; reason: string; message: string };

async function getYaml(cp: ControlPlane, kind: string, name: string): Promise<any> {
  const r = await runCli(['get', kind, name, '-o', 'yaml'], cp.cliEnv);
  assert.equal(r.code, 0, r.stderr);
  return parseYaml(r.stdout);
}
const condition = (conditions: Cond[] | undefined, type: string) => conditions?.find((c) => c.type === type);
const routeCondition = async (cp: ControlPlane, name: string, type: string) => condition((await getYaml(cp, 'httproute', name))?.status?.parents?.[0]?.conditions, type);

test('route status through trellis get -o yaml: Accepted, NoMatchingListenerHostname, BackendNotFound, detached; the Gateway Programmed', { timeout: 240_000 }, async (t) => {
  const cp = await startControlPlane(t);
  const [port] = await freePorts(1);
  const route = (hostnames: string[], backend = 'shop', parents: unknown[] = [{ kind: 'Gateway', name: 'edge' }]) =>
    routeDoc('shop', { parentRefs: parents, hostnames, rules: [{ backendRefs: [{ name: backend, port: 8080 }] }] });
  await applyResources(cp, [
    httpService('shop'),
    gatewayClass,
    gatewayDoc('edge', [{ name: 'web', port, protocol: 'HTTP', hostname: '*.example.com' }]),
    route(['shop.example.com']),
  ]);
  await startWorkload(t, cp, { service: 'shop' });
  const url = `http://shop.example.com:${port}/`;

  // Before its gateway runs, the Gateway is accepted but not programmed.
  const before = await getYaml(cp, 'gateway', 'edge');
  assert.equal(condition(before.status.conditions, 'Accepted')?.status, 'True');
  assert.equal(condition(before.status.conditions, 'Programmed')?.reason, 'NoResources');

  await startGateway(t, cp, 'edge');
  await waitFor(async () => (await curl(url)).status === 200, 'traffic through the gateway', 30_000);
  await waitFor(async () => condition((await getYaml(cp, 'gateway', 'edge')).status.conditions, 'Programmed')?.status === 'True', 'the Gateway Programmed', 20_000);
  const gw = await getYaml(cp, 'gateway', 'edge');
  assert.equal(gw.status.listeners[0].attachedRoutes, 1);
  assert.equal(condition(gw.status.listeners[0].conditions, 'Programmed')?.status, 'True');
  const table = await runCli(['get', 'gateways'], cp.cliEnv);
  assert.match(table.stdout, new RegExp(`edge\\s+trellis\\s+web:${port}/HTTP\\s+True`));
  const accepted = await routeCondition(cp, 'shop', 'Accepted');
  assert.deepEqual([accepted?.status, accepted?.reason], ['True', 'Accepted']);
  assert.equal((await getYaml(cp, 'httproute', 'shop')).status.parents[0].controllerName, 'trellis.dev/gateway-controller');

  // A host name no listener accepts: not attached, and the gateway stops routing it.
  await applyResources(cp, [route(['shop.example.org'])]);
  const noHost = await routeCondition(cp, 'shop', 'Accepted');
  assert.deepEqual([noHost?.status, noHost?.reason], ['False', 'NoMatchingListenerHostname']);
  assert.match(noHost!.message, /shop\.example\.org/);
  await waitFor(async () => (await curl(url)).status === 404, 'the route to leave the gateway', 20_000);
  const check = await runCli(['check'], cp.cliEnv, undefined, 30_000);
  assert.equal(check.code, 1, check.stdout);
  assert.match(check.stdout, /routes accepted by their Gateways.*HTTPRoute default\/shop on Gateway default\/edge: Accepted NoMatchingListenerHostname/);
  assert.match(check.stdout, /gateways programmed/);

  // A backend that does not exist.
  await applyResources(cp, [route(['shop.example.com'], 'ghost')]);
  const ghost = await routeCondition(cp, 'shop', 'ResolvedRefs');
  assert.deepEqual([ghost?.status, ghost?.reason], ['False', 'BackendNotFound']);
  assert.match(ghost!.message, /Service default\/ghost does not exist/);

  // Attached again, then detached by removing the parentRef (it names the Service alone): no Gateway status, no route at the gateway.
  await applyResources(cp, [route(['shop.example.com'])]);
  await waitFor(async () => (await curl(url)).status === 200, 'the route back at the gateway', 20_000);
  await applyResources(cp, [route(['shop.example.com'], 'shop', [{ kind: 'Service', name: 'shop', port: 8080 }])]);
  await waitFor(async () => (await curl(url)).status === 404, 'the detached route to leave the gateway', 20_000);
  assert.equal((await getYaml(cp, 'httproute', 'shop')).status, undefined);
  assert.equal((await getYaml(cp, 'gateway', 'edge')).status.listeners[0].attachedRoutes, 0);

  // Deleted outright after attaching once more.
  await applyResources(cp, [route(['shop.example.com'])]);
  await waitFor(async () => (await curl(url)).status === 200, 'the route attached again', 20_000);
  assert.equal((await api(cp, 'DELETE', '/api/v1/httproutes/default/shop')).status, 200);
  await waitFor(async () => (await curl(url)).status === 404, 'the deleted route to leave the gateway', 20_000);
});
