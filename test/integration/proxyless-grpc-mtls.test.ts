// Both worlds at once: a sidecar calls a proxyless xDS server, a proxyless client calls
// workloads behind sidecars and proxyless servers, all over mTLS with the mesh's identities;
// AuthorizationPolicies deny a proxyless caller (at a sidecar) and a sidecar caller (at a
// proxyless server, which enforces RBAC itself); a caller outside the mesh gets nothing.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import grpc from '@grpc/grpc-js';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, grpcService, startControlPlane, startWorkload } from './harness.js';
import { calls, failures, servedBy, startProxylessClient, startProxylessServer } from './proxyless.js';

const { echoService } = (await import(path.join(FIXTURES, 'grpc-echo.mjs'))) as { echoService: grpc.ServiceDefinition };
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');

const allowOnly = (name: string, target: string, serviceAccounts: string[]) => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name, namespace: 'default' },
  spec: { targetRef: { kind: 'Service', name: target }, action: 'ALLOW', rules: [{ from: [{ serviceAccounts }] }] },
});

/** One unary call with a plain grpc-js client: the workload that served it, or the error's code and details. */
function unary(address: string, credentials = grpc.credentials.createInsecure()): Promise<{ servedBy?: string; code?: number; details?: string }> {
  const client = new EchoClient(address, credentials) as any;
  return new Promise((resolve) => {
    client.unary({ text: 'hi' }, { deadline: new Date(Date.now() + 5000) }, (e: grpc.ServiceError | null, r: { served_by: string }) => {
      client.close();
      resolve(e ? { code: e.code, details: e.details } : { servedBy: r.served_by });
    });
  });
}

test('sidecars and proxyless gRPC call each other over mTLS, and AuthorizationPolicies hold on both sides', { timeout: 300_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [grpcService('ledger'), grpcService('greeter'), grpcService('caller'), grpcService('pclient')]);
  const ledger = await startProxylessServer(t, cp, 'ledger');
  await startWorkload(t, cp, { service: 'greeter', app: [process.execPath, path.join(FIXTURES, 'grpc-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['ledger:9000'] });
  const pclient = await startProxylessClient(t, cp, 'pclient');

  // A sidecar client to the proxyless server: its sidecar dials the server's own port with mTLS.
  const viaSidecar = `127.0.0.1:${caller.upstreamPorts['ledger:9000']}`;
  await waitFor(async () => (await unary(viaSidecar)).servedBy === 'ledger-v1', 'the sidecar caller reaches the proxyless ledger', 45_000, 250);

  // The proxyless client to both: the sidecar-backed greeter and the proxyless ledger.
  for (const target of ['greeter:9000', 'ledger:9000']) {
    await waitFor(async () => (await calls(pclient, { target, count: 1, rate: 10 }))[0]!.code === 0, `the proxyless client reaches ${target}`, 45_000, 250);
    const results = await calls(pclient, { target, count: 200, rate: 400 });
    assert.equal(results.filter((r) => r.code !== 0).length, 0, failures(results));
    assert.deepEqual(Object.keys(servedBy(results)), [`${target.split(':')[0]}-v1`]);
  }

  // The proxyless server takes mTLS only: a plaintext caller outside the mesh gets no answer.
  const outsider = await unary(`127.0.0.1:${ledger.port}`);
  assert.equal(outsider.servedBy, undefined, 'a plaintext caller is not served by the proxyless server');
  t.diagnostic(`plaintext caller to the proxyless server: code ${outsider.code} ${outsider.details}`);

  // Only `caller` may call either service: the proxyless client is denied by greeter's sidecar,
  // and the sidecar client... is allowed at ledger while the proxyless client is denied there by the server itself.
  await applyResources(cp, [allowOnly('greeter-callers', 'greeter', ['caller']), allowOnly('ledger-callers', 'ledger', ['caller'])]);
  for (const target of ['greeter:9000', 'ledger:9000']) {
    await waitFor(
      async () => (await calls(pclient, { target, count: 1, rate: 10 }))[0]!.code === Number(grpc.status.PERMISSION_DENIED),
      `the proxyless client denied at ${target}`,
      30_000,
      200,
    );
    const denied = await calls(pclient, { target, count: 50, rate: 200 });
    assert.ok(
      denied.every((r) => r.code === Number(grpc.status.PERMISSION_DENIED)),
      `every call of the proxyless client to ${target} is denied: ${failures(denied)}`,
    );
  }
  assert.equal((await unary(viaSidecar)).servedBy, 'ledger-v1', 'the allowed sidecar caller still reaches the proxyless ledger');

  // And the other way round at the proxyless server: allow only pclient, and the sidecar caller is denied there.
  await applyResources(cp, [allowOnly('ledger-callers', 'ledger', ['pclient'])]);
  await waitFor(async () => (await unary(viaSidecar)).code === Number(grpc.status.PERMISSION_DENIED), 'the sidecar caller denied by the proxyless ledger', 30_000, 200);
  const allowed = await calls(pclient, { target: 'ledger:9000', count: 50, rate: 200 });
  assert.equal(allowed.filter((r) => r.code !== 0).length, 0, failures(allowed));
});
