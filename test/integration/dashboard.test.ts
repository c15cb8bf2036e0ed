// The dashboard in a real browser (Debian's Chromium driven by playwright-core, headless, no
// network beyond 127.0.0.1): the demo's topology with live numbers, a service page drawing its
// charts, a trace opening as a waterfall, proxies in sync. Screenshots go to a temporary
// folder, or to $TRELLIS_SCREENSHOTS (docs/images for the README).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import { CHROMIUM, launchChromium } from './browser.js';
import type { Page } from 'playwright-core';
import { freePorts } from '../../src/common/free-port.js';
import { trellisArgv } from '../../src/common/self.js';
import { waitFor } from '../../src/common/wait.js';
import { exclusive, get, stopGroup, trustControlPlane } from './harness.js';

// Browser-side code below runs in the page: `document` is the page's (this file has no DOM types).
declare const document: any;

/**
 * How many pixels of the canvases under `selector` are drawn, or drawn in colour `rgb` (give
 * a series' stroke colour: axes and grid lines are grey, so only data lines count).
 */
async function drawnPixels(page: Page, selector: string, rgb?: [number, number, number]): Promise<number> {
  return page.$eval(
    selector,
    (el: any, want: [number, number, number] | undefined) => {
      let n = 0;
      // cytoscape draws on several stacked canvases, uPlot on one.
      for (const canvas of el.querySelectorAll('canvas')) {
        const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] === 0) continue;
          if (want === undefined || (Math.abs(d[i] - want[0]) < 40 && Math.abs(d[i + 1] - want[1]) < 40 && Math.abs(d[i + 2] - want[2]) < 40 && d[i + 3] > 128)) n++;
        }
      }
      return n;
    },
    rgb,
  );
}

test(
  'the dashboard shows the demo mesh live: topology, a service page with charts, a trace, proxies',
  { timeout: 420_000, skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` },
  async (t) => {
    await exclusive(t, 'demo', 240_000);
    const [apiPort, xdsPort] = await freePorts(2);
    const [node, bin] = trellisArgv();
    const demo = spawn(node, [bin, 'demo', '--explicit', '--api-port', String(apiPort), '--xds-port', String(xdsPort)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    demo.stdout.on('data', (c) => (log = (log + c).slice(-10000)));
    demo.stderr.on('data', (c) => (log = (log + c).slice(-10000)));
    cleanup(t, () => stopGroup(demo, 'SIGINT', 20_000));
    const api = `https://127.0.0.1:${apiPort}`;
    await waitFor(async () => log.includes('The demo mesh is running'), 'the demo to start', 100_000).catch((e: Error) => {
      throw new Error(`${e.message}; output: ${log}`);
    });
    const caFile = /TRELLIS_CA_FILE=(\S+)/.exec(log)?.[1];
    assert.ok(caFile, `the demo prints its trust bundle: ${log}`);
    trustControlPlane(caFile);
    // Traffic flows and the collector has seen it.
    const demoToken = /export TRELLIS_TOKEN=(\S+)/.exec(log)?.[1];
    // The load generator's first requests cross four cold sidecars; on a loaded machine the first
    // collected window can take a while. The last answer goes into a failure, to tell why.
    let lastStat: unknown;
    await waitFor(
      async () => {
        lastStat = (await get(`${api}/api/v1/telemetry/stat?window=10s`, { headers: { authorization: `Bearer ${demoToken}` } })).body;
        return ((lastStat as { services?: { service: string; rps: number }[] }).services ?? []).some((s) => s.service === 'frontend.default' && s.rps > 0);
      },
      'frontend traffic in the stats',
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; last stat ${JSON.stringify(lastStat)}; demo output: ${log}`);
    });

    const shots = process.env.TRELLIS_SCREENSHOTS ?? mkdtempSync(path.join(os.tmpdir(), 'trellis-shots-'));
    mkdirSync(shots, { recursive: true });
    if (!process.env.TRELLIS_SCREENSHOTS) cleanup(t, () => rmSync(shots, { recursive: true, force: true }));
    // The browser trusts exactly the dashboard's certificate key (the mesh root is not in its store).
    const browser = await launchChromium(t, apiPort!, { width: 1366, height: 820 });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const offsite: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(api) && !r.url().startsWith('data:')) offsite.push(r.url());
    });

    // Topology: every demo service is a node; frontend's row shows live traffic that changes.
    // The dashboard reads resources with the operator token the demo prints in its link.
    const token = /dashboard\/\?token=(\S+)/.exec(log)?.[1];
    assert.ok(token, `the demo prints the dashboard link with a token: ${log}`);
    await page.goto(`${api}/dashboard/?token=${token}`);
    await page.waitForFunction(() => Number(document.querySelector('#graph')?.getAttribute('data-nodes')) >= 5, undefined, { timeout: 20_000 });
    const names = await page.$$eval('#svc-table tbody tr', (rows) => rows.map((r) => r.getAttribute('data-service')));
    for (const s of ['frontend.default', 'catalog.default', 'ratings.default', 'reviews.default']) assert.ok(names.includes(s), `${s} in ${names.join(',')}`);
    assert.ok(Number(await page.getAttribute('#graph', 'data-edges')) >= 4, 'caller -> callee edges drawn');
    const rps = async () => Number(await page.textContent('#svc-table tbody tr[data-service="frontend.default"] td:nth-child(2)'));
    await page.waitForFunction(() => Number(document.querySelector('#svc-table tbody tr[data-service="frontend.default"] td:nth-child(2)')?.textContent) > 0, undefined, {
      timeout: 20_000,
    });
    assert.ok((await rps()) > 0, 'frontend shows requests per second');
    const updated = await page.textContent('#status');
    await page.waitForFunction((before) => document.querySelector('#status')?.textContent !== before, updated, { timeout: 10_000 });
    assert.ok((await drawnPixels(page, '#graph')) > 1000, 'the graph is drawn');
    await page.screenshot({ path: path.join(shots, 'dashboard-topology.png') });

    // A service page: three charts with data, workloads, routes.
    await page.goto(`${api}/dashboard/#/service/reviews.default`);
    await page.waitForFunction(() => document.querySelectorAll('#wl tbody tr').length >= 2, undefined, { timeout: 20_000 });
    await page.waitForTimeout(2500); // two refreshes: the charts have points to join
    // Each chart's data line, by its stroke colour (views.js): rps blue, success green, p99 red.
    for (const [chart, rgb] of [
      ['chart-rps', [52, 97, 193]],
      ['chart-success', [18, 161, 80]],
      ['chart-latency', [217, 45, 32]],
    ] as const) {
      const drawn = await drawnPixels(page, `[data-testid="${chart}"]`, [...rgb]);
      assert.ok(drawn > 50, `${chart} draws its series (${drawn} pixels of the series colour)`);
    }
    assert.match((await page.textContent('#routes')) ?? '', /HTTPRoute reviews/);
    await page.screenshot({ path: path.join(shots, 'dashboard-service.png'), fullPage: true });

    // Traces: the list links to a waterfall whose spans nest across services.
    await page.goto(`${api}/dashboard/#/traces`);
    // The newest trace may still be arriving (each proxy exports its spans on its own): open the fullest one listed.
    await page.waitForFunction(() => [...document.querySelectorAll('#tr tbody tr')].some((r) => Number(r.children[2]?.textContent) >= 4), undefined, { timeout: 20_000 });
    await page.$$eval('#tr tbody tr', (rs) => {
      const fullest = rs.reduce((best, r) => (Number(r.children[2]?.textContent) > Number(best.children[2]?.textContent) ? r : best));
      (fullest.querySelector('a') as unknown as { click(): void }).click();
    });
    await page.waitForSelector('.waterfall .row', { timeout: 10_000 });
    const rows = await page.$$eval('.waterfall .row', (rs) =>
      rs.map((r) => ({ span: r.getAttribute('data-span'), parent: r.getAttribute('data-parent'), label: r.querySelector('.label')?.textContent ?? '' })),
    );
    assert.ok(rows.length >= 4, `a trace of several hops (${rows.length} spans)`);
    const ids = new Set(rows.map((r) => r.span));
    assert.ok(
      rows.slice(1).every((r) => ids.has(r.parent)),
      'every span but the root hangs under another span of the trace',
    );
    assert.ok(new Set(rows.map((r) => r.label.split(' ')[0])).size >= 3, 'spans from three services or more');
    await page.click('.waterfall .row');
    assert.match((await page.textContent('#detail')) ?? '', /"traceId"/);
    await page.screenshot({ path: path.join(shots, 'dashboard-trace.png'), fullPage: true });

    // Proxies: all connected and in sync.
    await page.goto(`${api}/dashboard/#/proxies`);
    await page.waitForFunction(() => document.querySelectorAll('#px tbody tr').length >= 6, undefined, { timeout: 10_000 });
    const states = await page.$$eval('#px tbody tr td:nth-child(3)', (cells) => cells.map((c) => c.textContent));
    assert.ok(
      states.every((s) => s === 'in sync'),
      `proxies in sync: ${states.join(',')}`,
    );

    // Live tap: the stream is authenticated with the operator token and shows requests as they pass.
    await page.goto(`${api}/dashboard/#/tap/frontend.default`);
    await page.waitForFunction(() => (document.querySelector('form.tap select') as unknown as { value: string } | null)?.value === 'frontend.default', undefined, {
      timeout: 10_000,
    });
    await page.click('form.tap button');
    await page.waitForFunction(() => document.querySelectorAll('#tap tbody tr').length >= 2, undefined, { timeout: 15_000 });
    assert.match((await page.textContent('#tap tbody')) ?? '', /frontend/);
    await page.goto('about:blank'); // ends the tap stream

    assert.deepEqual(errors, [], 'no script errors');
    assert.deepEqual(offsite, [], 'nothing loaded from outside the control plane');
  },
);
