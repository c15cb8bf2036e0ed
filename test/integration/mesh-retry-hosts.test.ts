// Issue 12 (items 3 to 6) across real sidecars: a retry goes to an endpoint it has not tried
// (an endpoint killed under steady load fails nothing; ring hash with a dead owner retries
// elsewhere), requests waiting for a connection follow their endpoint's removal to another one,
// outlier detection ejects the one bad endpoint of three at the default maxEjectionPercent, and
// the counters of what the proxy refuses on purpose move when a retry budget or breaker refuses.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { createBalancer, hash32 } from '../../src/proxy/balancer/index.js';
import { applyResources, counter, FIXTURES, get, httpService, startControlPlane, startWorkload, type Workload } from './harness.js';

const faultyApp = (env: Record<string, string>) => ({ app: [process.execPath, path.join(FIXTURES, 'faulty-app.mjs')], env });

function trafficPolicy(target: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'TrafficPolicy',
    metadata: { name: target, namespace: 'default' },
    spec: { targetRef: { kind: 'Service', name: target }, ...spec },
  };
}

/** Statuses (0 for a request that got no answer at all) of `n` requests. */
async function statuses(url: string, n: number, headers: Record<string, string> = {}): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const s = await get(url, { headers }).then(
      (r) => r.status,
      () => 0,
    );
    out.set(s, (out.get(s) ?? 0) + 1);
  }
  return out;
}

/** Steady load: `workers` clients each sending one request after the other until stopped; what each got. */
function steadyLoad(url: string, workers: number) {
  const results = new Map<string, number>();
  let running = true;
  const one = async () => {
    while (running) {
      const key = await get(url).then(
        (r) => String(r.status),
        (e: Error) => `error ${e.message}`,
      );
      results.set(key, (results.get(key) ?? 0) + 1);
    }
  };
  const done = Promise.all(Array.from({ length: workers }, one));
  return {
    results,
    total: () => [...results.values()].reduce((a, b) => a + b, 0),
    stop: async () => {
      running = false;
      await done;
      return results;
    },
  };
}

/** `status version` of a GET with `x-user: user`, waiting up to a minute (the queue is served one request at a time). */
async function slowGet(url: string, user: string): Promise<string> {
  const res = await fetch(url, { headers: { 'x-user': user }, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return `${res.status} ${res.status === 200 ? (JSON.parse(text) as { version: string }).version : text}`;
}

/** The version of the workload that answers `x-user: user` (ring hash). */
async function ownerOf(url: string, user: string): Promise<string> {
  return (await get(url, { headers: { 'x-user': user } })).body.version as string;
}

/** Three echo workloads (versions a, b, c) and a client whose sidecar has `echo:8080`, once all three serve. */
async function threeEchoes(t: TestContext, policy: Record<string, unknown>, app?: { app: string[]; env: Record<string, string> }) {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('echo'), httpService('client'), trafficPolicy('echo', policy)]);
  const echoes = new Map<string, Workload>();
  for (const v of ['a', 'b', 'c']) echoes.set(v, await startWorkload(t, cp, { service: 'echo', version: v, ...app }));
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitFor(async () => new Set(await Promise.all(Array.from({ length: 30 }, async () => (await get(url)).body?.version))).size === 3, 'all three workloads serve', 30_000);
  return { cp, echoes, client, url };
}

test('an endpoint killed under steady load fails no request when a retry policy is on: the retry avoids the dead endpoint', { timeout: 180_000 }, async (t) => {
  // Random balancing and one retry: a retry that could pick the dead endpoint again would do so a third of the time.
  const { echoes, client, url } = await threeEchoes(t, {
    loadBalancer: { type: 'Random' },
    retry: { attempts: 1, on: ['connect-failure', 'reset'], backoff: { base: '1ms', max: '2ms' } },
  });
  const load = steadyLoad(url, 4);
  try {
    await waitFor(async () => load.total() >= 300, 'steady load before the kill', 60_000);
    const before = load.total();
    await echoes.get('b')!.stop('SIGKILL');
    // Keep the load on until the dead endpoint has had its share and the control plane has withdrawn it.
    await waitFor(async () => load.total() >= before + 600, 'steady load after the kill', 90_000);
  } finally {
    await load.stop();
  }
  const results = [...load.results];
  assert.deepEqual(
    results.filter(([k]) => k !== '200'),
    [],
    `every request answered 200: ${JSON.stringify(results)}`,
  );
  // Reused connections the kill closed are sent again (reused-connection), refused new ones retried (connect-failure): either way elsewhere.
  const retried = await counter(client.adminUrl, 'trellis_retries_total', { service: 'echo.default' });
  assert.ok(retried >= 1, `attempts to the dead endpoint were sent again (${retried}), so the test saw the failure it is about`);
});

test('ring hash: a request whose key is owned by a dead endpoint is retried on another one, and the key keeps its owner', { timeout: 180_000 }, async (t) => {
  const { echoes, client, url } = await threeEchoes(t, {
    loadBalancer: { type: 'RingHash', hashOn: { header: 'x-user' } },
    // The stopped endpoint still accepts TCP (the kernel does), so only a timeout sees it dead.
    timeouts: { connect: '300ms', perTry: '1s' },
    retry: { attempts: 1, on: ['connect-failure', 'reset'], backoff: { base: '1ms', max: '2ms' } },
  });
  const keys = new Map<string, string>();
  for (let i = 0; keys.size < 30 && i < 300; i++) keys.set(`user-${i}`, await ownerOf(url, `user-${i}`));
  const deadKeys = [...keys].filter(([, v]) => v === 'b').map(([k]) => k);
  assert.ok(deadKeys.length >= 3, `keys owned by b: ${deadKeys.length} of ${keys.size}`);

  // Frozen, not killed: its sidecar stays connected to the control plane, so b stays in EDS and on the ring.
  const b = echoes.get('b')!;
  process.kill(-b.child.pid!, 'SIGSTOP');
  try {
    for (const key of deadKeys.slice(0, 6)) {
      const r = await get(url, { headers: { 'x-user': key } });
      assert.equal(r.status, 200, `${key}: ${JSON.stringify(r.body)}`);
      assert.notEqual(r.body.version, 'b');
    }
    const retried =
      (await counter(client.adminUrl, 'trellis_retries_total', { service: 'echo.default', reason: 'connect-failure' })) +
      (await counter(client.adminUrl, 'trellis_retries_total', { service: 'echo.default', reason: 'per-try-timeout' }));
    assert.ok(retried >= Math.min(6, deadKeys.length), `each request to the frozen owner was retried: ${retried}`);
  } finally {
    process.kill(-b.child.pid!, 'SIGCONT');
  }
  // b is back: its keys hash to it again (the retry did not move them).
  await waitFor(async () => (await ownerOf(url, deadKeys[0]!)) === 'b', 'the key back on its owner', 20_000);
});

test('requests waiting for a connection to an endpoint that leaves go to another endpoint, without a retry policy', { timeout: 180_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    httpService('slow'),
    httpService('client'),
    trafficPolicy('slow', { loadBalancer: { type: 'RingHash', hashOn: { header: 'x-user' } }, circuitBreaker: { maxConnections: 1, maxPendingRequests: 50 } }),
  ]);
  // Slow enough that the control plane withdraws the killed endpoint while the first request is still served.
  const a = await startWorkload(t, cp, { service: 'slow', version: 'a', ...faultyApp({ DELAY_MS: '5000' }) });
  const b = await startWorkload(t, cp, { service: 'slow', version: 'b', ...faultyApp({ DELAY_MS: '5000' }) });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['slow:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['slow:8080']}/`;
  const stats = async () =>
    (await (await fetch(`${client.adminUrl}/stats`)).json()) as { endpoints: { endpoint: string; active: number }[]; clusters: { pendingRequests: number }[] };
  const keyOf = (w: Workload) => `127.0.0.1:${w.inboundPort}`;
  await waitFor(
    async () => {
      const known = (await stats()).endpoints;
      return [a, b].every((w) => known.some((e) => e.endpoint === keyOf(w)));
    },
    "both endpoints in the sidecar's config",
    30_000,
  );
  // Which key each endpoint owns, from the proxy's own ring (every request would take 5 s to ask).
  const ring = createBalancer(
    'ring_hash',
    [a, b].map((w) => ({ target: { key: keyOf(w), active: 0 }, healthy: true, weight: 1 })),
  );
  const userFor = (w: Workload) => Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => ring.pick(hash32(k))!.key === keyOf(w))!;

  // The one connection goes to b; four requests for a's key wait in the queue, bound for a.
  const first = slowGet(url, userFor(b));
  await waitFor(async () => (await stats()).endpoints.some((e) => e.endpoint === keyOf(b) && e.active === 1), 'the first request at b', 10_000);
  const waiting = Array.from({ length: 4 }, () => slowGet(url, userFor(a)));
  await waitFor(async () => (await stats()).clusters.reduce((n, c) => n + c.pendingRequests, 0) === 4, 'four requests waiting for a connection', 10_000);
  await a.stop('SIGKILL');
  const answers = await Promise.all([first, ...waiting]);
  assert.deepEqual(
    answers,
    Array.from({ length: 5 }, () => '200 b'),
    'all five served by b',
  );
  assert.equal(await counter(client.adminUrl, 'trellis_requests_rerouted_total', { service: 'slow.default', reason: 'endpoint_removed' }), 4);
});

test('outlier detection ejects the one bad endpoint of three at the default maxEjectionPercent (10 %)', { timeout: 180_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('echo'), httpService('client'), trafficPolicy('echo', { outlierDetection: { consecutiveErrors: 3, baseEjectionTime: '60s' } })]);
  await startWorkload(t, cp, { service: 'echo', version: 'a' });
  await startWorkload(t, cp, { service: 'echo', version: 'b' });
  await startWorkload(t, cp, { service: 'echo', version: 'bad', ...faultyApp({ FAIL_RATE: '1' }) });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}/`;
  await waitFor(async () => (await get(url)).status === 503, 'the bad workload gets traffic', 30_000);
  const ejections = () => counter(client.adminUrl, 'trellis_outlier_ejections_total', { service: 'echo.default', reason: 'consecutive_errors' });
  await waitFor(async () => (await statuses(url, 6), (await ejections()) === 1), 'the bad endpoint ejected', 30_000);
  const after = await statuses(url, 300);
  assert.deepEqual([...after], [[200, 300]], 'no request reaches the ejected endpoint');
  assert.equal(await ejections(), 1);
  assert.equal(await counter(client.adminUrl, 'trellis_outlier_ejections_overflow_total', { service: 'echo.default' }), 0, 'nothing held back: only one endpoint failed');
});

test('the counters of refusals move: a retry refused by maxRetries, by the retry budget, a request by the circuit breaker', { timeout: 180_000 }, async (t) => {
  const cp = await startControlPlane(t);
  const retry = { attempts: 2, on: ['5xx'], backoff: { base: '1ms', max: '2ms' } };
  await applyResources(cp, [httpService('failing'), httpService('client'), trafficPolicy('failing', { retry, circuitBreaker: { maxRetries: 0 } })]);
  await startWorkload(t, cp, { service: 'failing', ...faultyApp({ FAIL_RATE: '1' }) });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['failing:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['failing:8080']}/`;
  const refused = (reason: string) => counter(client.adminUrl, 'trellis_retries_refused_total', { service: 'failing.default', reason });
  await waitFor(async () => (await get(url)).status === 503 && (await refused('max_retries')) >= 1, 'maxRetries 0 refuses the retry', 30_000);
  const byMax = await refused('max_retries');
  assert.deepEqual([...(await statuses(url, 10))], [[503, 10]]);
  assert.equal(await refused('max_retries'), byMax + 10, 'one refusal per request');
  assert.equal(await counter(client.adminUrl, 'trellis_retries_total', { service: 'failing.default', reason: '5xx' }), 0, 'no retry started');

  await applyResources(cp, [trafficPolicy('failing', { retry: { ...retry, budget: { percent: 0, minConcurrency: 0 } } })]);
  await waitFor(async () => (await get(url), (await refused('retry_budget')) >= 1), 'the budget refuses the retry', 30_000);
  const byBudget = await refused('retry_budget');
  await statuses(url, 10);
  assert.equal(await refused('retry_budget'), byBudget + 10);

  await applyResources(cp, [trafficPolicy('failing', { circuitBreaker: { maxRequests: 0 } })]);
  await waitFor(async () => (await get(url)).headers.get('x-trellis-error') === 'CIRCUIT_BREAKER_OPEN', 'the breaker in effect', 30_000);
  const rejections = () => counter(client.adminUrl, 'trellis_circuit_breaker_rejections_total', { service: 'failing.default', limit: 'max_requests' });
  const before = await rejections();
  await statuses(url, 5);
  assert.equal(await rejections(), before + 5);
});
