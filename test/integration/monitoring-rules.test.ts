// The shipped Prometheus rules (monitoring/prometheus/): promtool accepts them and their unit
// tests pass, and every metric they name is one the sidecars or the control plane export.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ControlPlaneMetrics } from '../../src/control-plane/metrics/control-plane-metrics.js';
import { registerMeshHealthMetrics } from '../../src/proxy/metrics/mesh-health.js';
import { registerProcessMetrics } from '../../src/proxy/metrics/process-metrics.js';
import { ProxyMetrics } from '../../src/proxy/metrics/proxy-metrics.js';
import { PROJECT_ROOT } from '../../src/common/self.js';
import { PROMTOOL } from './prometheus.js';

const DIR = path.join(PROJECT_ROOT, 'monitoring/prometheus');

test('promtool checks the rules and passes their unit tests', () => {
  for (const args of [
    ['check', 'rules', 'trellis-rules.yml'],
    ['test', 'rules', 'trellis-rules.test.yml'],
  ]) {
    const r = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
});

test('every metric the rules name is exported by the mesh', async (t) => {
  const proxy = new ProxyMetrics();
  t.after(registerProcessMetrics(proxy.registry));
  registerMeshHealthMetrics(proxy.registry, { xds: () => ({ connected: true, lastUpdateMs: undefined, types: new Map() }), certificateNotAfterMs: () => undefined });
  const cp = new ControlPlaneMetrics({ proxies: () => [], storeRevision: () => 0, caSigned: () => 0 });
  const exported = new Set<string>();
  for (const m of [...(await proxy.registry.getMetricsAsJSON()), ...(await cp.registry.getMetricsAsJSON())]) {
    exported.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
  }
  const rules = readFileSync(path.join(DIR, 'trellis-rules.yml'), 'utf8');
  const exprs = [...rules.matchAll(/^\s*expr: (.*)$/gm)].map((m) => m[1]!);
  // Recording rules (`level:metric:operation`) are the rules' own names, not exported metrics.
  const named = new Set(exprs.flatMap((e) => [...e.matchAll(/(?<![:\w])((?:trellis|http|process|nodejs)_[a-z0-9_]+)(?![:\w])/g)].map((m) => m[1]!)));
  assert.ok(named.size >= 5, `the rules name metrics: ${[...named].join(', ')}`);
  const missing = [...named].filter((n) => !exported.has(n));
  assert.deepEqual(missing, [], 'metrics the rules name that nothing exports');
});
