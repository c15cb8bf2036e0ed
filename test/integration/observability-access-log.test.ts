// Access log format and filter end to end: a MeshConfig that asks for errors only, in fields
// of the operator's choosing, reaches real sidecars over xDS; under steady traffic of successes
// and errors, each sidecar writes lines for the errors alone, with exactly those keys and the
// client address, x-forwarded-for, span id and upstream time to first byte filled in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, httpService, startControlPlane, startWorkload, type Workload } from './harness.js';

const FIELDS = ['response_code', 'direction', 'path', 'client_address', 'x_forwarded_for', 'span_id', 'upstream_ttfb_ms', 'duration_ms'];
const MESH = {
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'MeshConfig',
  metadata: { name: 'default' },
  spec: { accessLog: { enabled: true, fields: FIELDS, filter: { minStatusCode: 400 } } },
};

/** The access log lines in a sidecar's output: JSON objects with a response_code (the proxy's own log lines have a level). */
function accessLines(w: Workload): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const raw of w.output().split('\n')) {
    const start = raw.indexOf('{"');
    if (start < 0) continue;
    try {
      const v = JSON.parse(raw.slice(start)) as Record<string, unknown>;
      if ('response_code' in v && !('level' in v)) out.push(v);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

test('sidecars log only the errors, in the JSON fields the MeshConfig chose', { timeout: 120000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('api'), httpService('web'), MESH]);
  const server = await startWorkload(t, cp, { service: 'api', app: [process.execPath, path.join(FIXTURES, 'protocol-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'web', upstreams: ['api:8080'] });
  const base = `http://127.0.0.1:${caller.upstreamPorts['api:8080']}`;
  const traceId = randomBytes(16).toString('hex');
  const headers = { 'x-forwarded-for': '203.0.113.9', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };

  await waitFor(async () => (await fetch(`${base}/echo`).catch(() => undefined))?.status === 200, 'the api service through the mesh', 20000);
  // Lines are written in 4 KiB batches: steady traffic, half of it errors, until both sidecars wrote some.
  const sent = { ok: 0, errors: 0 };
  await waitFor(
    async () => {
      for (let i = 0; i < 10; i++) {
        const ok = await fetch(`${base}/echo`, { headers });
        await ok.arrayBuffer();
        assert.equal(ok.status, 200);
        sent.ok++;
        const missing = await fetch(`${base}/missing-${sent.errors}`, { headers });
        await missing.arrayBuffer();
        assert.equal(missing.status, 404);
        sent.errors++;
      }
      return accessLines(caller).length >= 5 && accessLines(server).length >= 5;
    },
    'access log lines from both sidecars',
    60000,
  );

  for (const [w, direction] of [
    [caller, 'outbound'],
    [server, 'inbound'],
  ] as const) {
    const lines = accessLines(w);
    assert.ok(lines.length <= sent.errors, `${direction}: ${lines.length} lines for ${sent.errors} errors`);
    for (const line of lines) {
      assert.deepEqual(Object.keys(line), FIELDS, `${direction}: the chosen keys, in order: ${JSON.stringify(line)}`);
      assert.equal(line.response_code, 404, `${direction}: only errors are logged, ${sent.ok} successes were sent`);
      assert.equal(line.direction, direction);
      assert.match(String(line.path), /^\/missing-\d+$/);
      assert.equal(line.client_address, '127.0.0.1');
      assert.equal(line.x_forwarded_for, '203.0.113.9');
      assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
      assert.ok(typeof line.upstream_ttfb_ms === 'number' && typeof line.duration_ms === 'number' && line.upstream_ttfb_ms <= line.duration_ms, JSON.stringify(line));
    }
  }
});
