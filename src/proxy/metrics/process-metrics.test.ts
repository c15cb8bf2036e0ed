// The process metrics: every series present with a plausible value, in prom-client's names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registerProcessMetrics } from './process-metrics.js';
import { Registry } from './prom-client-core.js';
import { seriesSum } from './prom-text.js';

test('CPU, memory, heap, descriptors and event-loop delay are exposed', async (t) => {
  const registry = new Registry();
  t.after(registerProcessMetrics(registry));
  const text = await registry.metrics();
  const v = (name: string) => seriesSum(text, name, {});
  assert.ok(v('process_cpu_seconds_total')! > 0);
  assert.ok(Math.abs(v('process_resident_memory_bytes')! - process.memoryUsage.rss()) < 64e6);
  assert.ok(v('nodejs_heap_size_used_bytes')! > 0 && v('nodejs_heap_size_used_bytes')! <= v('nodejs_heap_size_total_bytes')!);
  assert.ok(v('process_start_time_seconds')! <= Date.now() / 1000);
  if (process.platform === 'linux') {
    assert.ok(v('process_open_fds')! > 2 && v('process_open_fds')! <= v('process_max_fds')!);
  }
  for (const name of ['nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']) assert.ok(v(name)! >= 0, name);
  assert.ok(v('nodejs_eventloop_lag_p50_seconds')! <= v('nodejs_eventloop_lag_max_seconds')!);
});
