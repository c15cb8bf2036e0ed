import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HTTPRoute, Service } from '../../api/resource.js';
import { addFromPrometheusText, windowBetween, type BackendSample } from './backend-metrics.js';
import { currentBackend, findRoute, newRoute, shareOf, stateOf, withState, withWeights } from './route-weights.js';

const svc: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'payments', namespace: 'default' },
  spec: { selector: { app: 'payments' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' }] },
};
const ref = (name: string, weight: number) => ({ group: '', kind: 'Service' as const, name, port: 8080, weight });

function route(rules: HTTPRoute['spec']['rules'], name = 'payments'): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'payments' }], rules },
  };
}

test('weights shift in rules that send only to the two backends; an A/B header rule is left alone', () => {
  const ab = {
    matches: [{ path: { type: 'PathPrefix' as const, value: '/' }, headers: [{ type: 'Exact' as const, name: 'x-beta', value: '1' }] }],
    backendRefs: [ref('payments-beta', 1)],
  };
  const main = { matches: [{ path: { type: 'PathPrefix' as const, value: '/' } }], backendRefs: [ref('payments-v1', 1)] };
  const r = withWeights(route([ab, main]), 'payments-v1', 'payments-v2', 25, 8080);
  assert.ok(r.ok);
  assert.deepEqual(r.value.spec.rules[0], ab);
  assert.deepEqual(
    r.value.spec.rules[1]!.backendRefs.map((b) => [b.name, b.weight]),
    [
      ['payments-v1', 75],
      ['payments-v2', 25],
    ],
  );
  assert.equal(shareOf({ ...r.value, spec: { ...r.value.spec, rules: [r.value.spec.rules[1]!] } }, 'payments-v2'), 25);
  assert.equal(currentBackend(r.value, 'payments-v2'), 'payments-v1');
  assert.ok(!withWeights(route([ab]), 'payments-v1', 'payments-v2', 25, 8080).ok, 'no rule qualifies');
});

test('the route of a Service: the only one attached, or the one named; a new one sends all to --from', () => {
  const one = findRoute([route([], 'a')], svc);
  assert.ok(one.ok && one.value?.metadata.name === 'a');
  const two = findRoute([route([], 'a'), route([], 'b')], svc);
  assert.ok(!two.ok && two.error.includes('several HTTPRoutes (a, b)'));
  const fresh = newRoute(svc, 'payments-v1');
  assert.deepEqual(fresh.spec.rules[0]!.backendRefs, [ref('payments-v1', 1)]);
  assert.deepEqual(fresh.spec.parentRefs, [{ group: '', kind: 'Service', name: 'payments', port: 8080 }]);
});

test('the workflow state round-trips through the annotation', () => {
  const r = withState(route([]), { kind: 'canary', step: 2 });
  assert.deepEqual(stateOf(r), { kind: 'canary', step: 2 });
  assert.equal(stateOf(route([])), undefined);
});

const metricsText = (ok: number, failed: number, buckets: [string, number][]) =>
  [
    '# HELP trellis_requests_total x',
    `trellis_requests_total{direction="outbound",service="payments-v2.default",code="200",grpc_status=""} ${ok}`,
    `trellis_requests_total{direction="outbound",service="payments-v2.default",code="503",grpc_status=""} ${failed}`,
    `trellis_requests_total{direction="inbound",service="payments-v2.default",code="500",grpc_status=""} 999`,
    `trellis_requests_total{direction="outbound",service="other.default",code="500",grpc_status=""} 999`,
    ...buckets.map(([le, n]) => `http_client_request_duration_seconds_bucket{service="payments-v2.default",route="r",le="${le}"} ${n}`),
    `http_server_request_duration_seconds_bucket{service="payments-v2.default",le="0.1"} 999`,
  ].join('\n');

test('a window between two samples gives the success rate and the p99 bucket of the backend', () => {
  const a: BackendSample = { requests: 0, failures: 0, buckets: [] };
  addFromPrometheusText(
    metricsText(90, 10, [
      ['0.1', 50],
      ['0.5', 99],
      ['+Inf', 100],
    ]),
    'payments-v2.default',
    a,
  );
  assert.deepEqual(a, {
    requests: 100,
    failures: 10,
    buckets: [
      [0.1, 50],
      [0.5, 99],
    ],
  });
  const b: BackendSample = { requests: 0, failures: 0, buckets: [] };
  addFromPrometheusText(
    metricsText(280, 20, [
      ['0.1', 150],
      ['0.5', 296],
      ['+Inf', 300],
    ]),
    'payments-v2.default',
    b,
  );
  assert.deepEqual(windowBetween(a, b), { requests: 200, successRate: 0.95, p99: Number.POSITIVE_INFINITY });
  const c: BackendSample = { requests: 0, failures: 0, buckets: [] };
  addFromPrometheusText(
    metricsText(290, 10, [
      ['0.1', 150],
      ['0.5', 299],
      ['+Inf', 300],
    ]),
    'payments-v2.default',
    c,
  );
  assert.deepEqual(windowBetween(a, c), { requests: 200, successRate: 1, p99: 0.5 });
  assert.deepEqual(windowBetween(a, a), { requests: 0, successRate: 1, p99: undefined });
});

test('the telemetry API source reads what callers saw over the watched seconds', async (t) => {
  const http = await import('node:http');
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url!);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests: 0, successRate: null, p99Ms: null, clientSide: { requests: 40, successRate: 0.95, p99Ms: 120 } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { telemetryApiMetrics } = await import('./backend-metrics.js');
  const m = telemetryApiMetrics(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  const w = await m.watch('payments-v2', 'default');
  assert.ok(w.ok);
  const seen = await w.value.finish();
  assert.deepEqual(seen, { ok: true, value: { requests: 40, successRate: 0.95, p99: 0.12 } });
  assert.deepEqual(asked, ['/api/v1/telemetry/backends/payments-v2.default?window=1s']);
});

test('regression issue 12: the telemetry API source marks a window it did not fully see, or could not read, as incomplete', async (t) => {
  const http = await import('node:http');
  const coverage = { windowSeconds: 1, coveredSeconds: 0.4, fraction: 0.4, gaps: [{ proxy: 'client-1', coveredSeconds: 0.4, reason: 'not collected yet' }] };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests: 0, successRate: null, p99Ms: null, coverage, clientSide: { requests: 0, successRate: null, p99Ms: null } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const { telemetryApiMetrics } = await import('./backend-metrics.js');
  const m = telemetryApiMetrics(`http://127.0.0.1:${port}`);
  const w = await m.watch('payments-v2', 'default');
  assert.ok(w.ok);
  assert.deepEqual(await w.value.finish(), {
    ok: true,
    value: { requests: 0, successRate: 1, p99: undefined, incomplete: 'the telemetry covers 0.4 s of the last 1 s (client-1: not collected yet)' },
  });
  await new Promise<void>((r) => server.close(() => r()));
  // The control plane is away (restarting): no data, not an error that rolls back.
  const gone = await w.value.finish();
  assert.ok(gone.ok && gone.value.incomplete?.startsWith('the telemetry API did not answer'), JSON.stringify(gone));
  void t;
});

test('the scrape source counts only proxies sampled at both ends and names the ones that did not answer', async () => {
  const { windowOfProxies } = await import('./backend-metrics.js');
  const s = (requests: number, failures: number): BackendSample => ({ requests, failures, buckets: [[0.1, requests]] });
  const before = { answered: new Map([['a', s(100, 0)]]), silent: ['b'] };
  const after = {
    answered: new Map([
      ['a', s(150, 5)],
      ['b', s(900, 900)],
      ['c', s(10, 0)],
    ]),
    silent: [],
  };
  // b's 900 failures may be from before the window: left out, and the window is incomplete; c joined within it.
  assert.deepEqual(windowOfProxies(before, after), { requests: 60, successRate: 55 / 60, p99: 0.1, incomplete: 'proxy b was not sampled at both ends of the window' });
  assert.deepEqual(windowOfProxies(before, { answered: new Map([['a', s(150, 5)]]), silent: [] }), { requests: 50, successRate: 0.9, p99: 0.1 });
  // A proxy sampled at the start and gone at the end: its last requests are unseen.
  const gone = windowOfProxies(
    {
      answered: new Map([
        ['a', s(100, 0)],
        ['d', s(5, 0)],
      ]),
      silent: [],
    },
    { answered: new Map([['a', s(150, 5)]]), silent: [] },
  );
  assert.equal(gone.incomplete, 'proxy d was not sampled at both ends of the window');
  assert.equal(windowOfProxies(before, { answered: new Map(), silent: ['a', 'b'] }).incomplete, 'proxies a, b were not sampled at both ends of the window');
});
