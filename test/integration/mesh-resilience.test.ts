// Resilience across real sidecars, configured only by resources applied to the control plane:
// retries hiding a backend that fails 30%, fault injection at its percentage, local rate
// limiting, route timeouts, the circuit breaker, outlier ejection and return, ring-hash affinity;
// and the sidecars' /metrics counting the retries and a refused plaintext handshake.
import assert from 'node:assert/strict';
import { plaintext } from './tls-helpers.js';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, counter, FIXTURES, get, httpRoute, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';

const faultyApp = (env: Record<string, string> = {}) => ({ app: [process.execPath, path.join(FIXTURES, 'faulty-app.mjs')], env });

function trafficPolicy(target: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'TrafficPolicy',
    metadata: { name: target, namespace: 'default' },
    spec: { targetRef: { kind: 'Service', name: target }, ...spec },
  };
}

async function count(url: string, n: number, headers: Record<string, string> = {}): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const s = (await get(url, { headers })).status;
    out.set(s, (out.get(s) ?? 0) + 1);
  }
  return out;
}

test('a TrafficPolicy with retries hides a backend that fails 30% of its requests', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('flaky'), httpService('client')]);
  const flaky = await startWorkload(t, cp, { service: 'flaky', ...faultyApp({ FAIL_RATE: '0.3' }) });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['flaky:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['flaky:8080']}/`;
  await waitFor(async () => (await get(url)).body?.service === 'flaky', 'flaky reachable', 15_000);

  const before = await count(url, 400);
  // Binomial(400, 0.3): mean 120, standard deviation ~9.2; 120±50 is beyond 5 sigma.
  assert.ok(Math.abs((before.get(503) ?? 0) - 120) <= 50, `without retries: ${JSON.stringify([...before])}`);
  const retries = () => counter(client.adminUrl, 'trellis_retries_total', { service: 'flaky.default', reason: '5xx' });
  assert.equal(await retries(), 0, 'no retries without a retry policy');

  await applyResources(cp, [trafficPolicy('flaky', { retry: { attempts: 4, on: ['5xx'], backoff: { base: '1ms', max: '5ms' } } })]);
  // In effect once 40 requests in a row succeed (0.7^40 ≈ 6e-7 without retries).
  await waitFor(async () => [...(await count(url, 40))].every(([s]) => s === 200), 'the retry policy in effect', 15_000);
  const after = await count(url, 1000);
  // Five attempts all fail with probability 0.3^5 ≈ 0.0024: ~2.4 of 1000; at most 15 is beyond 8 sigma.
  assert.ok((after.get(503) ?? 0) <= 15, `with 4 retries: ${JSON.stringify([...after])}`);
  assert.equal((after.get(200) ?? 0) + (after.get(503) ?? 0), 1000);
  // ~300 of the 1000 first attempts fail, and ~30% of their retries: far over 150 retries.
  const retried = await retries();
  assert.ok(retried >= 150, `trellis_retries_total{reason="5xx"} on the client's sidecar: ${retried}`);

  // The sidecars' handshakes are counted; a plaintext client on flaky's STRICT port is a refused one.
  assert.ok((await counter(client.adminUrl, 'trellis_tls_handshakes_total', { direction: 'outbound', service: 'flaky.default', result: 'ok' })) >= 1);
  assert.ok((await counter(flaky.adminUrl, 'trellis_tls_handshakes_total', { direction: 'inbound', service: 'flaky.default', result: 'ok' })) >= 1);
  const refused = () => counter(flaky.adminUrl, 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'failed', reason: 'protocol' });
  assert.equal(await refused(), 0);
  assert.equal(await plaintext(flaky.inboundPort), '', 'plaintext got an answer from a STRICT inbound port');
  await waitFor(async () => (await refused()) === 1, 'one failed inbound handshake (reason protocol) counted', 5000);
});

test('fault injection aborts its percentage, a rate limit answers 429, an HTTPRoute timeout answers 504', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    httpService('echo'),
    httpService('slow'),
    httpService('client'),
    trafficPolicy('echo', { faultInjection: { abort: { httpStatus: 503, percent: 10 } } }),
  ]);
  await startWorkload(t, cp, { service: 'echo' });
  await startWorkload(t, cp, { service: 'slow', ...faultyApp({ DELAY_MS: '3000' }) });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080', 'slow:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitFor(async () => (await get(url)).body?.service === 'echo', 'echo reachable', 15_000);

  const faults = await count(url, 1000);
  // Binomial(1000, 0.1): standard deviation ~9.5; 100±50 is beyond 5 sigma.
  assert.ok(Math.abs((faults.get(503) ?? 0) - 100) <= 50, `10% abort: ${JSON.stringify([...faults])}`);
  const one = await (async () => {
    for (;;) {
      const r = await get(url);
      if (r.status === 503) return r;
    }
  })();
  assert.equal(one.headers.get('x-trellis-error'), 'FAULT_INJECTED');

  await applyResources(cp, [trafficPolicy('echo', { rateLimit: { requests: 20, per: '1h' } })]);
  await waitFor(async () => (await get(url)).status === 429, 'the rate limit in effect', 15_000);
  // The bucket started full with the new config; what is left of it is spent; then only 429s.
  const limited = await count(url, 30);
  assert.equal(limited.get(429) ?? 0, 30 - (limited.get(200) ?? 0));
  assert.ok((limited.get(429) ?? 0) >= 10, JSON.stringify([...limited]));
  const r = await get(url);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('x-trellis-error'), 'RATE_LIMITED');

  const slowUrl = `http://127.0.0.1:${client.upstreamPorts['slow:8080']}/`;
  const route = httpRoute('slow', 'slow', [{ name: 'slow', weight: 1 }]) as { spec: { rules: Record<string, unknown>[] } };
  route.spec.rules[0]!.timeouts = { request: '300ms' };
  await applyResources(cp, [route]);
  await waitForStatus(slowUrl, 504, 15_000);
  const timedOut = await get(slowUrl);
  assert.equal(timedOut.headers.get('x-trellis-error'), 'REQUEST_TIMEOUT');
  assert.match(String(timedOut.body), /no complete response within 300 ms/);
});

test('with several workloads: ring-hash affinity, outlier ejection and return, circuit breaking', { timeout: 150_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('echo'), httpService('client'), trafficPolicy('echo', { loadBalancer: { type: 'RingHash', hashOn: { header: 'x-user' } } })]);
  for (const v of ['a', 'b', 'c']) await startWorkload(t, cp, { service: 'echo', version: v });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitFor(async () => new Set(await Promise.all(Array.from({ length: 30 }, async () => (await get(url)).body?.version))).size === 3, 'all three workloads serve', 20_000);

  const owner = new Map<string, string>();
  for (let round = 0; round < 3; round++) {
    for (let u = 0; u < 30; u++) {
      const v = (await get(url, { headers: { 'x-user': `u${u}` } })).body.version as string;
      if (!owner.has(`u${u}`)) owner.set(`u${u}`, v);
      else assert.equal(v, owner.get(`u${u}`), `u${u} moved`);
    }
  }
  assert.ok(new Set(owner.values()).size >= 2, `30 keys over 3 workloads use more than one: ${JSON.stringify([...owner])}`);

  // A failing fourth workload: ejected after 3 failures in a row, back after its ejection.
  await startWorkload(t, cp, { service: 'echo', version: 'bad', ...faultyApp({ FAIL_RATE: '1' }) });
  await applyResources(cp, [trafficPolicy('echo', { outlierDetection: { consecutiveErrors: 3, interval: '500ms', baseEjectionTime: '20s', maxEjectionPercent: 25 } })]);
  await waitFor(async () => (await get(url)).status === 503, 'the bad workload gets traffic', 20_000);
  const failures = async (n: number) => (await count(url, n)).get(503) ?? 0;
  // The policy reaches the sidecar in its own push, which may come after the bad endpoint's:
  // keep sending until the sidecar has ejected it, then 60 requests see no failure. The
  // ejection lasts 20 s so that a loaded machine still sends the 60 inside it.
  const ejections = () => counter(client.adminUrl, 'trellis_outlier_ejections_total', { service: 'echo.default', reason: 'consecutive_errors' });
  await waitFor(async () => (await failures(4), (await ejections()) === 1), 'the failing endpoint is ejected', 20_000);
  assert.equal(await failures(60), 0, 'no request reaches the ejected endpoint');
  assert.equal(await ejections(), 1, 'ejected once');
  await waitFor(async () => (await failures(10)) > 0, 'the ejected endpoint comes back on its own', 40_000);

  await applyResources(cp, [trafficPolicy('echo', { circuitBreaker: { maxRequests: 0 } })]);
  // The failing workload answers 503 too: wait for the sidecar's own answer.
  await waitFor(async () => (await get(url)).headers.get('x-trellis-error') === 'CIRCUIT_BREAKER_OPEN', 'the circuit breaker in effect', 15_000);
  const open = await get(url);
  assert.equal(open.status, 503);
  assert.equal(open.headers.get('x-trellis-error'), 'CIRCUIT_BREAKER_OPEN');
  assert.match(String(open.body), /maxRequests = 0/);
});
