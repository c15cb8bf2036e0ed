// A real Prometheus (Debian's /usr/bin/prometheus) for integration tests: scrapes the given
// targets every second from a temporary directory, answers PromQL, and is stopped at cleanup.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePorts } from '../../src/common/free-port.js';
import { httpOk, waitFor } from '../../src/common/wait.js';
import { cleanup } from './cleanup.js';
import { get, stopGroup } from './harness.js';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** One scrape job: its name, targets (`host:port`), and optional path and bearer token. */
export interface ScrapeJob {
  readonly name: string;
  readonly targets: readonly string[];
  readonly metricsPath?: string;
  readonly bearerToken?: string;
  /** Scrape over https, verifying the target with this CA file. */
  readonly caFile?: string;
}

/** What the query API answered: the result, or Prometheus's error type and message. */
export type Evaluation = { ok: true; resultType: string; result: { labels: Record<string, string>; value: number }[] } | { ok: false; error: string };

export interface Prometheus {
  /** The instant vector of `promql` as [labels, value] pairs. */
  query(promql: string): Promise<{ labels: Record<string, string>; value: number }[]>;
  /** `promql` evaluated now, errors included (a scalar comes back as one sample without labels). */
  evaluate(promql: string): Promise<Evaluation>;
  /** `promql` as Prometheus's own parser prints it back (canonical form), or its parse error. */
  format(promql: string): Promise<{ ok: true; text: string } | { ok: false; error: string }>;
  /** The values of `label` over the series `match` selects (what Grafana's label_values(match, label) lists). */
  labelValues(label: string, match: string): Promise<string[]>;
}

export async function startPrometheus(t: TestContext, jobs: readonly ScrapeJob[], opts: { ruleFiles?: readonly string[] } = {}): Promise<Prometheus> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-prom-'));
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const [port] = await freePorts(1);
  const lines = ['global: { scrape_interval: 1s, evaluation_interval: 1s }'];
  if (opts.ruleFiles !== undefined) lines.push(`rule_files: [${opts.ruleFiles.map((f) => JSON.stringify(f)).join(', ')}]`);
  lines.push('scrape_configs:');
  for (const j of jobs) {
    lines.push(`  - job_name: ${j.name}`, `    static_configs: [{ targets: [${j.targets.map((x) => JSON.stringify(x)).join(', ')}] }]`);
    if (j.metricsPath !== undefined) lines.push(`    metrics_path: ${j.metricsPath}`);
    if (j.caFile !== undefined) lines.push('    scheme: https', `    tls_config: { ca_file: ${JSON.stringify(j.caFile)} }`);
    if (j.bearerToken !== undefined) {
      writeFileSync(path.join(dir, `${j.name}.token`), j.bearerToken, { mode: 0o600 });
      lines.push(`    authorization: { credentials_file: ${JSON.stringify(path.join(dir, `${j.name}.token`))} }`);
    }
  }
  writeFileSync(path.join(dir, 'prometheus.yml'), lines.join('\n') + '\n');
  const prom = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  prom.stderr.on('data', (c) => (log = (log + c).slice(-5000)));
  cleanup(t, () => stopGroup(prom, 'SIGTERM', 5000));
  const api = `http://127.0.0.1:${port}`;
  await waitFor(() => httpOk(`${api}/-/ready`), 'Prometheus ready', 30_000).catch((e: Error) => {
    throw new Error(`${e.message}; prometheus log: ${log}`);
  });
  return {
    async query(promql) {
      const r = await get(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const result = (r.body?.data?.result ?? []) as { metric: Record<string, string>; value: [number, string] }[];
      return result.map((x) => ({ labels: x.metric, value: Number(x.value[1]) }));
    },
    async evaluate(promql) {
      const r = await get(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
      if (r.body?.status !== 'success') return { ok: false, error: `${r.status} ${r.body?.errorType ?? ''}: ${r.body?.error ?? JSON.stringify(r.body)}` };
      const { resultType, result } = r.body.data as { resultType: string; result: unknown };
      if (resultType === 'scalar') return { ok: true, resultType, result: [{ labels: {}, value: Number((result as [number, string])[1]) }] };
      const samples = result as { metric: Record<string, string>; value: [number, string] }[];
      return { ok: true, resultType, result: samples.map((x) => ({ labels: x.metric, value: Number(x.value[1]) })) };
    },
    async format(promql) {
      const r = await get(`${api}/api/v1/format_query?query=${encodeURIComponent(promql)}`);
      return r.body?.status === 'success' ? { ok: true, text: String(r.body.data) } : { ok: false, error: `${r.status}: ${r.body?.error ?? JSON.stringify(r.body)}` };
    },
    async labelValues(label, match) {
      const r = await get(`${api}/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`);
      if (r.body?.status !== 'success') throw new Error(`label values of ${label} over ${match}: ${r.status} ${r.body?.error ?? ''}`);
      return r.body.data as string[];
    },
  };
}
