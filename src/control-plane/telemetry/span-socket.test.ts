// The span receiver on its Unix socket: owner-only, spans posted there reach the trace store,
// and nothing but POST /v1/traces is served (no resource, token or telemetry read route).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { serveSpanSocket } from './span-socket.js';
import { SpanStore } from './span-store.js';
import { StatsCollector } from './stats-collector.js';
import { createTelemetryApi } from './telemetry-api.js';

const T = 'e'.repeat(32);
const otlp = JSON.stringify({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'payments' } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: T,
              spanId: 'f'.repeat(16),
              name: 'GET payments.default',
              kind: 2,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000002000000',
              attributes: [],
              status: {},
            },
          ],
        },
      ],
    },
  ],
});

function request(socketPath: string, method: string, urlPath: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('spans posted on the socket reach the trace store; other paths are not served; the file goes on close', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-cp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'xds.otlp.sock');
  const spans = new SpanStore();
  const telemetry = createTelemetryApi({ collector: new StatsCollector({ proxies: () => [] }), spans, proxies: () => [] });
  const close = await serveSpanSocket(socket, telemetry);
  let closed = false;
  t.after(() => (closed ? undefined : close()));
  assert.equal(statSync(socket).mode & 0o777, 0o600);

  const posted = await request(socket, 'POST', '/v1/traces', otlp);
  assert.equal(posted.status, 200, posted.body);
  assert.equal(spans.trace(T)?.[0]?.service, 'payments');

  for (const p of ['/api/v1/traces', `/api/v1/traces/${T}`, '/api/v1/telemetry/stat', '/api/v1/resources', '/healthz']) {
    const r = await request(socket, 'GET', p);
    assert.equal(r.status, 404, p);
    assert.match(r.body, /this socket serves only POST \/v1\/traces/);
  }
  assert.equal((await request(socket, 'GET', '/v1/traces')).status, 405);
  await close();
  closed = true;
  assert.equal(existsSync(socket), false);
});
