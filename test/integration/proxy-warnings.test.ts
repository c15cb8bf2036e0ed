// What the translator says about the config reaches `trellis get proxies -o wide` with real
// processes, also when the config a proxy gets does not change (an ignored resource).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { api, applyResources, httpService, runCli, startControlPlane, startWorkload } from './harness.js';

test('regression issue 12: policy and TCPRoute warnings appear in get proxies -o wide and leave it when fixed', { timeout: 90_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('web')]);
  await startWorkload(t, cp, { service: 'web' });
  const wide = async () => {
    const r = await runCli(['get', 'proxies', '-o', 'wide'], cp.cliEnv);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  assert.match(await wide(), /<none>/);

  await applyResources(cp, [
    {
      apiVersion: 'trellis.dev/v1alpha1',
      kind: 'TrafficPolicy',
      metadata: { name: 'orphan', namespace: 'default' },
      spec: { targetRef: { name: 'missing' }, circuitBreaker: { maxRequests: 10 } },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TCPRoute',
      metadata: { name: 'web-tcp', namespace: 'default' },
      spec: { parentRefs: [{ kind: 'Service', name: 'web', port: 8080 }], rules: [{ backendRefs: [{ name: 'web', port: 8080 }] }] },
    },
  ]);
  const policyWarning = 'TrafficPolicy default/orphan: Service default/missing does not exist; the policy applies to nothing';
  const routeWarning = 'TCPRoute default/web-tcp parentRefs[0]: port 8080 of web.default is http, not tcp; the route is ignored there';
  await waitFor(async () => (await wide()).includes(policyWarning), 'the policy warning in get proxies -o wide', 20_000);
  const both = await wide();
  assert.ok(both.includes(routeWarning), both);
  // The API says the same.
  const status = await api(cp, 'GET', '/api/v1/proxies');
  assert.ok(status.body.items[0].warnings.includes(policyWarning), JSON.stringify(status.body));

  assert.equal((await api(cp, 'DELETE', '/api/v1/trafficpolicies/default/orphan')).status, 200);
  await waitFor(async () => !(await wide()).includes(policyWarning), 'the policy warning gone', 20_000);
  assert.ok((await wide()).includes(routeWarning), 'the TCPRoute warning stays while the route does');
  assert.equal((await api(cp, 'DELETE', '/api/v1/tcproutes/default/web-tcp')).status, 200);
  await waitFor(async () => /<none>/.test(await wide()), 'no warning left', 20_000);
});
