// The service lines of `trellis check` on plain stat answers: who is below the success rate or
// above the p99 threshold, with the numbers; services without requests are not judged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceStat, StatAnswer } from '../../api/telemetry.js';
import { DEFAULT_SERVICE_THRESHOLDS, serviceLines } from './check-services.js';

function service(name: string, requests: number, successes: number, p99Ms: number | null = 10): ServiceStat {
  return {
    service: name,
    workloads: [],
    requests,
    successes,
    rps: requests / 60,
    successRate: requests === 0 ? null : successes / requests,
    p50Ms: p99Ms,
    p95Ms: p99Ms,
    p99Ms: requests === 0 ? null : p99Ms,
  };
}

function stat(...services: ServiceStat[]): StatAnswer {
  return { windowSeconds: 60, coverage: { windowSeconds: 60, coveredSeconds: 60, fraction: 1, gaps: [] }, at: '2026-12-08T00:00:00Z', services, workloads: [], edges: [] };
}

test('a service below the success rate fails the check, named with its rate and counts', () => {
  const [success, latency] = serviceLines(
    stat(service('web.default', 100, 100), service('reviews.default', 400, 39), service('api.default', 200, 180)),
    DEFAULT_SERVICE_THRESHOLDS,
  );
  assert.deepEqual(success, {
    verdict: 'FAIL',
    check: 'services succeeding (at least 95%)',
    detail: 'reviews.default 9.75% (39 of 400 requests succeeded); api.default 90.00% (180 of 200 requests succeeded) over the last 60 s',
  });
  assert.equal(latency!.verdict, 'skip', 'p99 is not checked by default');
});

test('all at or above the threshold pass, naming the lowest; a service without requests is not judged', () => {
  const [success] = serviceLines(stat(service('web.default', 100, 95), service('idle.default', 0, 0), service('api.default', 10, 10)), DEFAULT_SERVICE_THRESHOLDS);
  assert.deepEqual(success, {
    verdict: 'ok',
    check: 'services succeeding (at least 95%)',
    detail: '2 service(s) over the last 60 s; the lowest: web.default 95.00% (95 of 100 requests succeeded)',
  });
  assert.equal(serviceLines(stat(service('idle.default', 0, 0)), DEFAULT_SERVICE_THRESHOLDS)[0]!.verdict, 'skip');
});

test('the success threshold is the flag: 80 % lets 87.5 % pass', () => {
  assert.equal(serviceLines(stat(service('api.default', 40, 35)), { minSuccessPercent: 80, maxP99Ms: undefined })[0]!.verdict, 'ok');
  assert.equal(serviceLines(stat(service('api.default', 40, 35)), { minSuccessPercent: 90, maxP99Ms: undefined })[0]!.verdict, 'FAIL');
});

test('with a p99 threshold, slower services fail, slowest first; otherwise the slowest is named', () => {
  const t = { minSuccessPercent: 95, maxP99Ms: 1000 };
  const [, slow] = serviceLines(stat(service('a.default', 10, 10, 1200), service('b.default', 10, 10, 2500.25), service('c.default', 10, 10, 1000)), t);
  assert.deepEqual(slow, {
    verdict: 'FAIL',
    check: 'services fast (p99 at most 1000 ms)',
    detail: 'b.default p99 2500.3 ms (10 requests); a.default p99 1200.0 ms (10 requests) over the last 60 s',
  });
  const [, fast] = serviceLines(stat(service('c.default', 10, 10, 1000), service('d.default', 5, 5, 3)), t);
  assert.deepEqual(fast, {
    verdict: 'ok',
    check: 'services fast (p99 at most 1000 ms)',
    detail: '2 service(s) over the last 60 s; the slowest: c.default p99 1000.0 ms (10 requests)',
  });
});
