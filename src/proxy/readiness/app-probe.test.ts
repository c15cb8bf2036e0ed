// The readiness check flag: what it accepts, what it refuses and why, and the round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProbeSpec, parseProbeSpec } from './app-probe.js';

test('none, tcp and http:/path are read, and written back the same', () => {
  for (const [text, spec] of [
    ['none', { kind: 'none' }],
    ['tcp', { kind: 'tcp' }],
    ['http:/healthz', { kind: 'http', path: '/healthz' }],
    ['http:/ready?full=1', { kind: 'http', path: '/ready?full=1' }],
  ] as const) {
    const r = parseProbeSpec(text);
    assert.deepEqual(r, { ok: true, value: spec }, text);
    assert.equal(formatProbeSpec(r.ok ? r.value : spec), text);
  }
});

test('anything else is refused, naming the value and what is expected', () => {
  for (const bad of ['', 'http', 'http:', 'http:healthz', 'http:/a b', 'http:/a\r\nx: y', 'exec:true', 'TCP']) {
    const r = parseProbeSpec(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.equal(r.error, `expected none, tcp or http:/PATH (e.g. http:/healthz), got ${JSON.stringify(bad)}`);
  }
});
