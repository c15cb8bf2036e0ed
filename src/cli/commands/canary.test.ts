// `trellis canary` against an in-memory control plane and scripted metrics: an interval the
// metrics did not fully see is neither a pass nor a failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HTTPRoute, Resource, Service } from '../../api/resource.js';
import { err, ok } from '../../common/result.js';
import type { ApiClient } from '../api-client.js';
import type { CliIo } from '../io.js';
import type { BackendMetrics, Window } from '../rollout/backend-metrics.js';
import { CANARY_HELD, runCanary } from './canary.js';

const service = (name: string, labels: Record<string, string>): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { selector: labels, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' }] },
});
const route: HTTPRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'echo', namespace: 'default' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'echo' }],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: 'echo-v1', port: 8080, weight: 100 }] }],
  },
};

/** A control plane that keeps resources in a map (by kind/name), and the canary's output. */
function setup(windows: Window[]) {
  const store = new Map<string, Resource>();
  for (const r of [service('echo', { app: 'echo' }), service('echo-v1', { app: 'echo', version: 'v1' }), service('echo-v2', { app: 'echo', version: 'v2' }), route])
    store.set(`${r.kind}/${r.metadata.name}`, r);
  const client = {
    baseUrl: 'http://cp.invalid',
    get: async (k: { kind: string; name: string }) => {
      const r = store.get(`${k.kind}/${k.name}`);
      return r ? ok(structuredClone(r)) : err({ code: 'STORE_NOT_FOUND', message: 'not found' });
    },
    list: async (kind: string) => ok([...store.values()].filter((r) => r.kind === kind).map((r) => structuredClone(r))),
    apply: async (rs: Resource[]) => {
      for (const r of rs) store.set(`${r.kind}/${r.metadata.name}`, structuredClone(r));
      return ok({ items: [] });
    },
  } as unknown as ApiClient;
  const metrics: BackendMetrics = {
    source: 'scripted metrics',
    watch: async () => ok({ finish: async () => ok(windows.shift() ?? { requests: 100, successRate: 1, p99: 0.01 }) }),
  };
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) } as unknown as CliIo;
  const weights = () => Object.fromEntries((store.get('HTTPRoute/echo') as HTTPRoute).spec.rules[0]!.backendRefs.map((b) => [b.name, b.weight]));
  const phase = () => JSON.parse((store.get('HTTPRoute/echo') as HTTPRoute).metadata.annotations?.['trellis.dev/rollout'] ?? '{}').phase as string;
  return { deps: { io, client, metrics, sleep: async () => {}, now: () => new Date(0) }, out, weights, phase };
}

const missing = (why: string): Window => ({ requests: 0, successRate: 1, p99: undefined, incomplete: why });
const failing: Window = { requests: 100, successRate: 0.5, p99: 0.01 };
const opts = { to: 'echo-v2', steps: '50', interval: '10s', minRequests: '5' };

test('regression issue 12: intervals without complete metrics are not judged; the step is watched again and judged on complete data', async () => {
  const { deps, out, weights, phase } = setup([
    missing('the telemetry API did not answer: connect ECONNREFUSED'),
    missing('the telemetry covers 3.0 s of the last 10 s (p1: first collected within the window)'),
  ]);
  assert.equal(await runCanary('echo', opts, deps), 0, out.join(''));
  const text = out.join('');
  assert.match(text, /not judged: the telemetry API did not answer: connect ECONNREFUSED; holding 50% for another interval \(waited 10s of --data-wait 5m\)/);
  assert.match(text, /not judged: the telemetry covers 3\.0 s of the last 10 s \(p1: first collected within the window\); holding 50% .*waited 20s/);
  assert.match(text, /echo-v2: 100 requests in 10s, success 100\.00%/);
  assert.match(text, /promoted: echo-v2 has all traffic of echo/);
  assert.deepEqual(weights(), { 'echo-v1': 0, 'echo-v2': 100 });
  assert.equal(phase(), 'Promoted');
});

test('missing data does not hide a failing backend, nor count towards the fewer-than-min-requests rule', async () => {
  const few: Window = { requests: 1, successRate: 1, p99: 0.01 };
  const { deps, out, weights, phase } = setup([few, missing('no data'), few, missing('no data'), failing]);
  assert.equal(await runCanary('echo', opts, deps), 1, out.join(''));
  assert.match(out.join(''), /rolled back: all traffic of echo to echo-v1\. Reason: success rate of echo-v2 was 50\.00% over 100 requests/);
  assert.deepEqual(weights(), { 'echo-v1': 100, 'echo-v2': 0 });
  assert.equal(phase(), 'RolledBack');
});

test('with no complete metrics within --data-wait the canary stops undecided: weights and state stay', async () => {
  const { deps, out, weights, phase } = setup(Array.from({ length: 10 }, () => missing('the telemetry covers 0.0 s of the last 10 s')));
  assert.equal(await runCanary('echo', { ...opts, dataWait: '30s' }, deps), CANARY_HELD);
  const text = out.join('');
  assert.equal(text.match(/not judged/g)?.length, 3);
  assert.match(
    text,
    /held: no complete metrics of echo-v2 from scripted metrics for 40s \(over --data-wait 30s\); last: the telemetry covers 0\.0 s of the last 10 s\. 50% of echo stays on echo-v2; run the command again to resume/,
  );
  assert.doesNotMatch(text, /rolled back|promoted/);
  assert.deepEqual(weights(), { 'echo-v1': 50, 'echo-v2': 50 });
  assert.equal(phase(), 'Progressing');
});
