// The span exporter over a Unix socket collector (`unix:PATH`, how a sidecar in another
// network namespace reaches the control plane's receiver): plain HTTP POST /v1/traces on the
// socket, counted as exported; a socket nobody serves costs the spans, counted as dropped.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { SpanExporter } from './span-exporter.js';
import { SPAN_KIND_SERVER, STATUS_UNSET, type FinishedSpan } from './span.js';

const resource = { 'service.name': 'payments', 'service.namespace': 'default', 'service.instance.id': 'sidecar~1', 'trellis.workload': 'payments' };
const span: FinishedSpan = {
  traceId: 'c'.repeat(32),
  spanId: 'd'.repeat(16),
  parentSpanId: undefined,
  traceState: undefined,
  name: 'GET payments.default',
  kind: SPAN_KIND_SERVER,
  startMs: 1_700_000_000_000,
  endMs: 1_700_000_000_002,
  attributes: {},
  statusCode: STATUS_UNSET,
  statusMessage: undefined,
};

function socketDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-spans-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('spans for a unix: collector are posted as OTLP JSON to /v1/traces on that socket', async (t) => {
  const socket = path.join(socketDir(t), 'cp.otlp.sock');
  const got: { method?: string; url?: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ method: req.method, url: req.url, body });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const exporter = new SpanExporter({ resource, intervalMs: 60_000 });
  t.after(() => exporter.close());
  exporter.record(`unix:${socket}`, span);
  await exporter.flush();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.method, 'POST');
  assert.equal(got[0]!.url, '/v1/traces');
  const sent = JSON.parse(got[0]!.body) as { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] };
  assert.equal(sent.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId, span.traceId);
  assert.deepEqual(exporter.counts, { exported: 1, dropped: 0, failedRequests: 0 });
});

test('a unix: collector nobody serves drops the spans and counts the failure', async (t) => {
  const exporter = new SpanExporter({ resource, intervalMs: 60_000 });
  t.after(() => exporter.close());
  exporter.record(`unix:${path.join(socketDir(t), 'nobody.sock')}`, span);
  await exporter.flush();
  assert.deepEqual(exporter.counts, { exported: 0, dropped: 1, failedRequests: 1 });
});
