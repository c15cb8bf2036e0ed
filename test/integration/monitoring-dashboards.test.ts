// The shipped Grafana dashboards (monitoring/grafana/) against a live mesh: a real Prometheus,
// with the shipped rules loaded, scrapes two sidecars under steady traffic and the control plane
// (https, with a token). Every query of every panel, its template variables filled with a value
// the variable's own query lists, evaluates without error; every metric a query names is one the
// live /metrics expose (or a recording rule of trellis-rules.yml); the key panels show data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../../src/common/self.js';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, get, httpService, startControlPlane, startWorkload, waitForStatus } from './harness.js';
import { PROMTOOL, startPrometheus, type Evaluation } from './prometheus.js';

const GRAFANA = path.join(PROJECT_ROOT, 'monitoring/grafana');
const RULES = path.join(PROJECT_ROOT, 'monitoring/prometheus/trellis-rules.yml');
const DATASOURCE_UID = '${DS_PROMETHEUS}';
/** What Grafana puts in for its own variables, at a 1 s scrape interval. */
const BUILT_INS: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '1h' };

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  datasource?: { uid?: string };
  query?: string | { query?: string };
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  __inputs?: { name?: string; type?: string; pluginId?: string }[];
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

const dashboards = (): [string, Dashboard][] =>
  readdirSync(GRAFANA)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(path.join(GRAFANA, f), 'utf8')) as Dashboard]);

/** Every panel, those inside rows included. */
const panelsOf = (d: Dashboard): Panel[] => (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = (d: Dashboard): Panel[] => panelsOf(d).filter((p) => p.type !== 'row' && p.type !== 'text');

const variableQuery = (v: Variable): string => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));
/** `label_values(match, label)` taken apart (the only variable query the dashboards use). */
function labelValuesQuery(v: Variable): { match: string; label: string } {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(variableQuery(v).trim());
  assert.ok(m, `variable ${v.name}: expected label_values(<series>, <label>), got ${variableQuery(v)}`);
  return { match: m[1]!, label: m[2]! };
}

/** `expr` with `$name`, `${name}` and `${name:format}` replaced; throws on a variable it does not know. */
function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const value = values[name] ?? BUILT_INS[name];
    if (value === undefined) throw new Error(`${whole} in ${expr} is no variable of the dashboard`);
    return value;
  });
}

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan', 'atan2']);
/**
 * The metric names in a query as Prometheus's parser printed it back (format_query): string
 * literals, label matchers, ranges and grouping label lists dropped, what is left that is no
 * function call and no keyword names a metric.
 */
function metricNames(canonical: string): string[] {
  const bare = canonical
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)].map((m) => m[1]!).filter((n) => !PROMQL_WORDS.has(n.toLowerCase()));
}

test('metricNames finds the metrics of a query and nothing else', () => {
  assert.deepEqual(
    metricNames('1 - (sum by (service) (rate(a_total{code=~"5..",x="by (y)"}[1m])) or vector(0)) / on (service) group_left (le) sum(service:b:rate1m offset 5m) > bool 2e3'),
    ['a_total', 'service:b:rate1m'],
  );
  assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))'), ['h_bucket']);
  assert.deepEqual(metricNames('time() - c'), ['c']);
});

test('every dashboard is Grafana dashboard JSON that imports anywhere: a DS_PROMETHEUS input, every query on it, unique ids', () => {
  const all = dashboards();
  assert.deepEqual(
    all.map(([f]) => f),
    ['trellis-mesh.json', 'trellis-proxy.json', 'trellis-service.json'],
  );
  const uids = new Set<string>();
  for (const [file, d] of all) {
    assert.ok(d.uid && !uids.has(d.uid), `${file}: a uid of its own, got ${d.uid}`);
    uids.add(d.uid);
    assert.ok((d.schemaVersion ?? 0) >= 36, `${file}: schemaVersion ${d.schemaVersion}`);
    assert.deepEqual(
      d.__inputs?.map((i) => [i.name, i.type, i.pluginId]),
      [['DS_PROMETHEUS', 'datasource', 'prometheus']],
      `${file}: the datasource is an import input`,
    );
    const ids = new Set<number>();
    for (const p of panelsOf(d)) {
      assert.ok(typeof p.id === 'number' && !ids.has(p.id), `${file}: panel ${p.title}: id ${p.id} unique`);
      ids.add(p.id);
      assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `${file}: panel ${p.title} within the 24 columns`);
    }
    for (const p of queryPanels(d)) {
      assert.equal(p.datasource?.uid, DATASOURCE_UID, `${file}: panel ${p.title}'s datasource`);
      assert.ok((p.targets ?? []).length > 0, `${file}: panel ${p.title} has queries`);
      const refIds = new Set<string>();
      for (const t of p.targets ?? []) {
        assert.ok(t.expr && t.expr.trim() !== '', `${file}: panel ${p.title}: a target without expr`);
        assert.equal(t.datasource?.uid, DATASOURCE_UID, `${file}: panel ${p.title} target ${t.refId}'s datasource`);
        assert.ok(t.refId && !refIds.has(t.refId), `${file}: panel ${p.title}: refId ${t.refId} unique`);
        refIds.add(t.refId);
      }
    }
    for (const v of d.templating?.list ?? []) {
      assert.equal(v.type, 'query', `${file}: variable ${v.name}`);
      assert.equal(v.datasource?.uid, DATASOURCE_UID, `${file}: variable ${v.name}'s datasource`);
      labelValuesQuery(v);
    }
  }
});

/** The metric names the live /metrics texts declare (# TYPE), a histogram's series included. */
function declaredNames(texts: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const text of texts) {
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name!);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
    }
  }
  return names;
}

const recordingRules = (): string[] =>
  (parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: { record?: string }[] }[] }).groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));

test(
  'a real Prometheus scraping two sidecars under traffic and the control plane evaluates every dashboard query without error; every metric named is exported; key panels show data',
  { timeout: 240_000 },
  async (t) => {
    const cp = await startControlPlane(t);
    await applyResources(cp, [httpService('server'), httpService('client')]);
    const server = await startWorkload(t, cp, { service: 'server' });
    const client = await startWorkload(t, cp, { service: 'client', upstreams: ['server:8080'] });
    const url = `http://127.0.0.1:${client.upstreamPorts['server:8080']}/items`;
    await waitForStatus(url, 200);

    // A little steady traffic, client -> server, until the test ends.
    let traffic = true;
    const load = (async () => {
      while (traffic) {
        await get(url).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    t.after(async () => {
      traffic = false;
      await load;
    });

    const texts = [await (await fetch(`${client.adminUrl}/metrics`)).text(), await (await fetch(`${server.adminUrl}/metrics`)).text()];
    const cpMetrics = await fetch(`${cp.apiUrl}/metrics`, { headers: { authorization: `Bearer ${cp.token}` }, signal: AbortSignal.timeout(10_000) });
    assert.equal(cpMetrics.status, 200);
    const cpText = await cpMetrics.text();
    texts.push(cpText);
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: cpText, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check metrics on the control plane's /metrics: ${check.stdout}${check.stderr}`);
    const known = declaredNames(texts);
    for (const r of recordingRules()) known.add(r);
    assert.ok(known.has('trellis_control_plane_xds_push_duration_seconds_bucket') && known.has('process_resident_memory_bytes'), 'the live /metrics were read');

    const host = (u: string) => new URL(u).host;
    const prom = await startPrometheus(
      t,
      [
        { name: 'trellis-control-plane', targets: [host(cp.apiUrl)], bearerToken: cp.token, caFile: cp.caFile },
        { name: 'trellis-sidecars', targets: [host(client.adminUrl), host(server.adminUrl)] },
      ],
      { ruleFiles: [RULES] },
    );
    // The values the variables are set to; each must be one their own query lists.
    const chosen: Record<string, string> = { service: 'server.default', instance: host(server.adminUrl) };

    const found = (d: Dashboard, title: string): Panel => {
      const p = queryPanels(d).find((x) => x.title === title);
      assert.ok(p, `${d.title}: a panel named ${title}`);
      return p;
    };
    const byFile = new Map(dashboards());
    // Key panels: rates need two scrapes and the rules an evaluation, so they are waited for.
    const keyPanels: [string, string, (e: Evaluation) => boolean][] = [
      ['trellis-mesh.json', 'Request rate by service', (e) => e.ok && e.result.some((s) => s.labels.service === 'server.default' && s.value > 0)],
      ['trellis-mesh.json', 'Success rate by service', (e) => e.ok && e.result.some((s) => s.labels.service === 'server.default' && s.value === 1)],
      ['trellis-mesh.json', 'Proxies connected', (e) => e.ok && e.result[0]?.value === 2],
      ['trellis-service.json', 'Requests by route and status code', (e) => e.ok && e.result.some((s) => s.labels.code === '200' && s.value > 0)],
      ['trellis-proxy.json', 'Memory', (e) => e.ok && e.result.length === 1 && e.result[0]!.value > 10e6],
    ];
    const variables = async (d: Dashboard): Promise<Record<string, string>> => {
      const values: Record<string, string> = {};
      for (const v of d.templating?.list ?? []) {
        const { match, label } = labelValuesQuery(v);
        const want = chosen[v.name];
        assert.ok(want !== undefined, `${d.title}: no value chosen for variable ${v.name}`);
        let listed: string[] = [];
        await waitFor(async () => (listed = await prom.labelValues(label, substitute(match, values))).includes(want), `${d.title}: variable ${v.name} lists ${want}`, 60_000).catch(
          (e: Error) => {
            throw new Error(`${e.message}; it lists ${JSON.stringify(listed)}`);
          },
        );
        values[v.name] = want;
      }
      return values;
    };
    for (const [file, title, ok] of keyPanels) {
      const d = byFile.get(file)!;
      const values = await variables(d);
      const expr = substitute(found(d, title).targets![0]!.expr!, values);
      let last: Evaluation | undefined;
      await waitFor(async () => ok((last = await prom.evaluate(expr))), `${file}: ${title} (${expr}) to show data`, 60_000).catch((e: Error) => {
        throw new Error(`${e.message}; last answer ${JSON.stringify(last)}`);
      });
    }

    let evaluated = 0;
    const problems: string[] = [];
    for (const [file, d] of byFile) {
      const values = await variables(d);
      for (const p of queryPanels(d)) {
        for (const target of p.targets ?? []) {
          const where = `${file}: panel "${p.title}" ${target.refId}`;
          const expr = substitute(target.expr!, values);
          const formatted = await prom.format(expr);
          if (!formatted.ok) {
            problems.push(`${where}: ${expr} does not parse: ${formatted.error}`);
            continue;
          }
          const evaluation = await prom.evaluate(expr);
          if (!evaluation.ok) problems.push(`${where}: ${expr} fails: ${evaluation.error}`);
          evaluated++;
          const unknown = metricNames(formatted.text).filter((n) => !known.has(n));
          if (unknown.length > 0) problems.push(`${where}: ${unknown.join(', ')} exported by no sidecar or control plane and no recording rule`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(evaluated >= 60, `queries evaluated: ${evaluated}`);
  },
);
