// The dashboard's trace and topology views (issue 14), in a real browser (Debian's Chromium driven
// by playwright-core, headless, only 127.0.0.1): a trace whose spans arrive in two batches, as the
// proxies of a chain export them on their own, is shown in progress as one tree with a
// placeholder for the parent not yet received, then complete once its last span arrives,
// without reloading the page; the topology joins a Service to the backend Services of its
// HTTPRoute; with a collector in the MeshConfig the traces page says where the traces are.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from './browser.js';
import { applyResources, httpRoute, httpService, startControlPlane, type ControlPlane } from './harness.js';

declare const document: any;

const TRACE = '5b8efff798038103d269b633813fc60c';
const now = Date.now();
/** a SERVER -> a CLIENT -> b SERVER -> b CLIENT -> c SERVER, ids 1..5 repeated. */
const SPANS = [
  { service: 'a', id: '1', parent: undefined, kind: 2 },
  { service: 'a', id: '2', parent: '1', kind: 3 },
  { service: 'b', id: '3', parent: '2', kind: 2 },
  { service: 'b', id: '4', parent: '3', kind: 3 },
  { service: 'c', id: '5', parent: '4', kind: 2 },
].map((s, i) => ({ ...s, id: s.id.repeat(16), parent: s.parent?.repeat(16), start: now - 100 + i * 5, end: now - i * 5 }));

/** Posts spans to the control plane's OTLP/HTTP receiver, one resource per service, as proxies do (with the admin token instead of a workload certificate). */
async function send(cp: ControlPlane, spans: typeof SPANS): Promise<void> {
  const resourceSpans = spans.map((s) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: s.service } }] },
    scopeSpans: [
      {
        spans: [
          {
            traceId: TRACE,
            spanId: s.id,
            ...(s.parent ? { parentSpanId: s.parent } : {}),
            name: `GET ${s.service}`,
            kind: s.kind,
            startTimeUnixNano: `${s.start}000000`,
            endTimeUnixNano: `${s.end}000000`,
            status: {},
          },
        ],
      },
    ],
  }));
  const res = await fetch(`${cp.apiUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.token}` },
    body: JSON.stringify({ resourceSpans }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** A headless Chromium trusting exactly the control plane's certificate key; its page and the page errors seen. */
async function openBrowser(t: TestContext, cp: ControlPlane): Promise<{ page: Page; errors: string[] }> {
  const apiPort = Number(new URL(cp.apiUrl).port);
  const browser = await launchChromium(t, apiPort);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

test(
  'the trace pages show a half-recorded trace in progress as one tree and complete it live when its last spans arrive',
  { timeout: 180_000, skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` },
  async (t) => {
    const cp = await startControlPlane(t);
    // What the leaf proxies exported first: the root, and b's CLIENT and c's SERVER (b's SERVER and a's CLIENT not yet).
    await send(cp, [SPANS[0]!, SPANS[3]!, SPANS[4]!]);

    const { page, errors } = await openBrowser(t, cp);

    // The list marks it in progress.
    await page.goto(`${cp.apiUrl}/dashboard/?token=${cp.token}#/traces`);
    await page.waitForSelector(`#tr tbody tr a[href="#/trace/${TRACE}"]`, { timeout: 20_000 });
    assert.ok(await page.$(`#tr tbody tr:has(a[href="#/trace/${TRACE}"]) [data-testid=in-progress]`), 'the list marks the trace in progress');

    // The trace page: one root, the spans whose parent is missing under a placeholder for it.
    await page.click(`a[href="#/trace/${TRACE}"]`);
    await page.waitForSelector('[data-testid=trace-state][data-complete=false]', { timeout: 20_000 });
    const partial = await page.$$eval('.waterfall .row', (rs: any[]) =>
      rs.map((r) => ({ span: r.getAttribute('data-span'), missing: r.getAttribute('data-missing'), parent: r.getAttribute('data-parent') })),
    );
    assert.deepEqual(partial, [
      { span: SPANS[0]!.id, missing: null, parent: '' },
      { span: null, missing: SPANS[2]!.id, parent: null },
      { span: SPANS[3]!.id, missing: null, parent: SPANS[2]!.id },
      { span: SPANS[4]!.id, missing: null, parent: SPANS[3]!.id },
    ]);
    assert.match((await page.textContent('[data-testid=trace-state]')) ?? '', /in progress: 3 spans/);

    // The last spans arrive; the open page completes the tree by itself.
    await send(cp, [SPANS[1]!, SPANS[2]!]);
    await page.waitForSelector('[data-testid=trace-state][data-complete=true]', { timeout: 20_000 });
    const whole = await page.$$eval('.waterfall .row', (rs: any[]) =>
      rs.map((r) => ({ span: r.getAttribute('data-span'), depth: r.getAttribute('data-depth'), pending: r.classList.contains('pending') })),
    );
    assert.deepEqual(
      whole,
      SPANS.map((s, i) => ({ span: s.id, depth: String(i), pending: false })),
      'one tree, each span under its parent',
    );
    assert.match((await page.textContent('[data-testid=trace-state]')) ?? '', /complete: 5 spans/);

    // And the list, refreshed, no longer marks it.
    await page.goto(`${cp.apiUrl}/dashboard/#/traces`);
    await page.waitForSelector(`#tr tbody tr a[href="#/trace/${TRACE}"]`, { timeout: 20_000 });
    await page.waitForFunction((id: string) => !document.querySelector(`#tr tbody tr:has(a[href="#/trace/${id}"]) [data-testid=in-progress]`), TRACE, { timeout: 20_000 });
    assert.deepEqual(errors, []);
  },
);

test(
  'the topology joins a Service to its HTTPRoute backend; with a MeshConfig collector the traces page says where traces are',
  { timeout: 180_000, skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` },
  async (t) => {
    const cp = await startControlPlane(t);
    await applyResources(cp, [
      httpService('reviews'),
      httpService('reviews-v1', { app: 'reviews', version: 'v1' }),
      httpRoute('reviews', 'reviews', [{ name: 'reviews-v1', weight: 1 }]),
      { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { tracing: { samplingPercent: 1, collector: 'http://127.0.0.1:4318' } } },
    ]);
    const { page, errors } = await openBrowser(t, cp);
    await page.goto(`${cp.apiUrl}/dashboard/?token=${cp.token}#/`);
    await page.waitForSelector('[data-testid=topology][data-edge-ids~="reviews.default=>reviews-v1.default"]', { timeout: 20_000 });

    await page.goto(`${cp.apiUrl}/dashboard/#/traces`);
    await page.waitForSelector('[data-testid=collector-note]', { timeout: 20_000 });
    assert.match((await page.textContent('[data-testid=collector-note]')) ?? '', /collector at http:\/\/127\.0\.0\.1:4318/);
    assert.deepEqual(errors, []);
  },
);
