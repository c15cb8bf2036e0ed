// The collector's windows from fake proxy reports: exact counts per service, workload and edge,
// success rate, percentiles from buckets, restarts, and the window's edge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyStatus } from '../../api/proxy-status.js';
import type { RequestSeries, RequestStatsReport } from '../../api/telemetry.js';
import { backend, stat, topology } from './golden-views.js';
import { isFailure, quantile, signals } from './signals.js';
import { StatsCollector } from './stats-collector.js';

const BOUNDS = [0.001, 0.01, 0.1];
const proxy = (id: string, service: string, version: string): ProxyStatus => ({
  id,
  service,
  namespace: 'default',
  address: '127.0.0.1',
  connected: true,
  lastSeen: '',
  versions: { listeners: '', routes: '', clusters: '', endpoints: '' },
  nacks: [],
  adminPort: 1,
  labels: { app: service, version },
});
function series(over: Partial<RequestSeries> & Pick<RequestSeries, 'direction' | 'service' | 'count' | 'codes' | 'buckets'>): RequestSeries {
  return { sourceService: 'unknown', sourceWorkload: 'unknown', destinationWorkload: 'unknown', route: '', sumSeconds: 0, requestBytes: 0, responseBytes: 0, ...over };
}

function setup() {
  const reports = new Map<string, RequestStatsReport>();
  const proxies = [proxy('web-1', 'web', 'v1'), proxy('api-1', 'api', 'v1'), proxy('api-2', 'api', 'v2')];
  const c = new StatsCollector({ proxies: () => proxies, intervalMs: 1000, fetchReport: async (p) => reports.get(p.id) ?? { bucketBounds: BOUNDS, series: [] } });
  const set = (id: string, s: RequestSeries[]) => reports.set(id, { bucketBounds: BOUNDS, series: s });
  return { c, set, proxies };
}

test('service, workload and edge counts are the increase since the first collection, exactly', async () => {
  const { c, set, proxies } = setup();
  set('web-1', [
    series({ direction: 'outbound', service: 'api.default', sourceService: 'web.default', sourceWorkload: 'web-v1', count: 10, codes: { '200': 9, '503': 1 }, buckets: [2, 6, 2] }),
  ]);
  set('api-1', [
    series({
      direction: 'inbound',
      service: 'api.default',
      sourceService: 'web.default',
      sourceWorkload: 'web-v1',
      destinationWorkload: 'api-v1',
      count: 6,
      codes: { '200': 6 },
      buckets: [3, 3, 0],
    }),
  ]);
  set('api-2', [
    series({
      direction: 'inbound',
      service: 'api.default',
      sourceService: 'web.default',
      sourceWorkload: 'web-v1',
      destinationWorkload: 'api-v2',
      count: 3,
      codes: { '200': 2, '500': 1 },
      buckets: [0, 1, 2],
    }),
  ]);
  await c.collectNow();
  // Counts go on; the next collection adds only the increase.
  set('api-1', [
    series({
      direction: 'inbound',
      service: 'api.default',
      sourceService: 'web.default',
      sourceWorkload: 'web-v1',
      destinationWorkload: 'api-v1',
      count: 8,
      codes: { '200': 8 },
      buckets: [4, 4, 0],
    }),
  ]);
  await c.collectNow();
  const s = stat(c, 60, proxies);
  const api = s.services.find((x) => x.service === 'api.default')!;
  assert.equal(api.requests, 11);
  assert.equal(api.successes, 10);
  assert.deepEqual(api.workloads, ['api-v1', 'api-v2']);
  assert.equal(s.workloads.find((w) => w.workload === 'api-v1')!.requests, 8);
  assert.equal(s.workloads.find((w) => w.workload === 'api-v2')!.successRate, 2 / 3);
  const edge = s.edges.find((e) => e.source === 'web.default' && e.destination === 'api.default')!;
  assert.equal(edge.requests, 10);
  assert.equal(edge.successRate, 0.9);
  assert.equal(s.services.find((x) => x.service === 'web.default')!.requests, 0, 'registered services show without traffic');
  const b = backend(c, 30, 'api', 'api-v2');
  assert.equal(b.requests, 3);
  assert.equal(b.successRate, 2 / 3);
  assert.equal(b.clientSide.requests, 10);
  const topo = topology(c, 60, proxies);
  assert.deepEqual(
    topo.edges.map((e) => [e.source, e.destination, e.requests]),
    [['web.default', 'api.default', 10]],
  );
});

test('a proxy whose counters went down restarted: its new counts are the increase', async () => {
  const { c, set, proxies } = setup();
  const s = (count: number) => [series({ direction: 'inbound', service: 'api.default', destinationWorkload: 'api-v1', count, codes: { '200': count }, buckets: [count, 0, 0] })];
  set('api-1', s(50));
  await c.collectNow();
  set('api-1', s(4));
  await c.collectNow();
  assert.equal(stat(c, 60, proxies).services.find((x) => x.service === 'api.default')!.requests, 54);
});

test('a proxy that cannot be reached is recorded and skipped', async () => {
  const proxies = [proxy('gone', 'web', 'v1')];
  const c = new StatsCollector({
    proxies: () => proxies,
    fetchReport: async () => {
      throw new Error('connection refused');
    },
  });
  await c.collectNow();
  assert.deepEqual(c.health.get('gone')?.ok, false);
  assert.equal(c.health.get('gone')?.error, 'connection refused');
});

test('percentiles interpolate within buckets; above the last bound reports the bound', () => {
  const a = { requests: 10, successes: 10, buckets: [0, 10, 0], above: 0, sumSeconds: 0 };
  assert.equal(quantile(a, BOUNDS, 0.5), 0.001 + (0.01 - 0.001) * 0.5);
  assert.equal(quantile({ ...a, buckets: [0, 0, 0], above: 10 }, BOUNDS, 0.99), 0.1);
  assert.equal(quantile({ ...a, requests: 0 }, BOUNDS, 0.5), null);
  const g = signals({ requests: 100, successes: 99, buckets: [100, 0, 0], above: 0, sumSeconds: 0 }, BOUNDS, 10);
  assert.equal(g.rps, 10);
  assert.equal(g.successRate, 0.99);
  assert.equal(g.p99Ms, 0.99);
});

test('failures: 5xx, no response, failing gRPC statuses; 4xx and gRPC NOT_FOUND are not', () => {
  assert.ok(isFailure('503'));
  assert.ok(isFailure('0'));
  assert.ok(isFailure('200/14'));
  assert.ok(!isFailure('404'));
  assert.ok(!isFailure('200/5'));
  assert.ok(!isFailure('200/0'));
});

test('a proxy that started before the collector (a restarted control plane) is baselined: only its later requests count', async () => {
  const reports = new Map<string, RequestStatsReport>();
  const proxies = [proxy('api-1', 'api', 'v1'), proxy('api-2', 'api', 'v2')];
  const c = new StatsCollector({ proxies: () => proxies, fetchReport: async (p) => reports.get(p.id)! });
  const s = (count: number, failed: number) => [
    series({ direction: 'inbound', service: 'api.default', destinationWorkload: 'api-v1', count, codes: { '200': count - failed, '503': failed }, buckets: [count, 0, 0] }),
  ];
  reports.set('api-1', { startedAt: Date.now() - 60_000, bucketBounds: BOUNDS, series: s(100, 50) }); // running before us, with old failures
  reports.set('api-2', { startedAt: Date.now() + 1, bucketBounds: BOUNDS, series: s(3, 0) }); // started after us: all of it is new
  await c.collectNow();
  reports.set('api-1', { startedAt: Date.now() - 60_000, bucketBounds: BOUNDS, series: s(110, 50) });
  await c.collectNow();
  const b1 = backend(c, 60, 'api', 'api-v1');
  assert.equal(b1.requests, 13, "the 10 new requests of api-1 and the 3 of api-2; not api-1's 100 from before");
  assert.equal(b1.successRate, 1);
});

test('regression issue 12: coverage says how much of a window every proxy was collected for (a restarted control plane starts with none)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const reports = new Map<string, RequestStatsReport>();
  const proxies = [proxy('api-1', 'api', 'v1'), proxy('api-2', 'api', 'v2')];
  const failing = new Set<string>();
  const c = new StatsCollector({
    proxies: () => proxies,
    fetchReport: async (p) => {
      if (failing.has(p.id)) throw new Error('connection refused');
      return reports.get(p.id)!;
    },
  });
  const report = { startedAt: 1_000_000 - 60_000, bucketBounds: BOUNDS, series: [] }; // both ran before this collector
  reports.set('api-1', report);
  reports.set('api-2', report);
  // Nothing collected yet: no second of the window is covered, and each proxy says why.
  const none = c.coverage(30);
  assert.equal(none.coveredSeconds, 0);
  assert.equal(none.fraction, 0);
  assert.deepEqual(
    none.gaps.map((g) => [g.proxy, g.coveredSeconds, g.reason]),
    [
      ['api-1', 0, 'not collected yet'],
      ['api-2', 0, 'not collected yet'],
    ],
  );

  // api-1 reconnects first (collected from 5 s on), api-2 later (from 8 s on): their counts before are history.
  failing.add('api-2');
  t.mock.timers.tick(5000);
  await c.collectNow();
  failing.delete('api-2');
  t.mock.timers.tick(3000);
  await c.collectNow();
  t.mock.timers.tick(2000);
  await c.collectNow();
  const early = c.coverage(30);
  assert.equal(early.coveredSeconds, 2, 'only the 2 s since the last proxy was first collected');
  assert.equal(early.fraction, 2 / 30);
  assert.deepEqual(
    early.gaps.map((g) => [g.proxy, g.coveredSeconds]),
    [
      ['api-1', 5],
      ['api-2', 2],
    ],
  );
  assert.match(early.gaps[0]!.reason, /first collected within the window/);

  // 30 s later, collected every second: the whole window is covered.
  for (let i = 0; i < 30; i++) {
    t.mock.timers.tick(1000);
    await c.collectNow();
  }
  assert.deepEqual(c.coverage(30), { windowSeconds: 30, coveredSeconds: 30, fraction: 1, gaps: [] });
  assert.equal(backend(c, 30, 'api', undefined).coverage.fraction, 1);

  // api-2's collections fail: its counts since its last success (4 s ago, one interval of grace) are missing.
  failing.add('api-2');
  for (let i = 0; i < 4; i++) {
    t.mock.timers.tick(1000);
    await c.collectNow();
  }
  const stale = c.coverage(30);
  assert.equal(stale.coveredSeconds, 28);
  assert.deepEqual(
    stale.gaps.map((g) => [g.proxy, g.coveredSeconds, g.reason]),
    [['api-2', 28, 'its stats could not be collected: connection refused']],
  );
  assert.equal(stat(c, 30, proxies).coverage.coveredSeconds, 28);

  // A registered proxy that is not connected (a restored workload whose sidecar has not reconnected) is a gap too.
  failing.delete('api-2');
  proxies.push({ ...proxy('web-1', 'web', 'v1'), connected: false });
  t.mock.timers.tick(1000);
  await c.collectNow();
  const away = c.coverage(30);
  assert.equal(away.coveredSeconds, 0);
  assert.deepEqual(
    away.gaps.map((g) => [g.proxy, g.reason]),
    [['web-1', 'not connected to this control plane (its requests meanwhile are not seen)']],
  );
});
