// Where a listener's spans go: the control plane's own receiver over its socket when the
// proxy reaches xDS through one; every other collector (and every proxy on TCP xDS) by URL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyTelemetry } from './proxy-telemetry.js';

const identity = { service: 'web.default', serviceName: 'web', namespace: 'default', workload: 'web', nodeId: 'sidecar~1' };

test("the control plane's receiver goes over the span socket when the proxy has one", () => {
  const telemetry = new ProxyTelemetry({ identity, controlPlaneSpanSocket: '/run/trellis/xds.otlp.sock' });
  assert.equal(telemetry.collectorFor({ tracingPercent: 1, collector: 'https://127.0.0.1:15000', collectorIsControlPlane: true }), 'unix:/run/trellis/xds.otlp.sock');
  // A collector the MeshConfig names is reached at its URL, socket or not.
  assert.equal(telemetry.collectorFor({ tracingPercent: 1, collector: 'http://otel.example:4318' }), 'http://otel.example:4318');
});

test("without a span socket (TCP xDS) the control plane's receiver is reached at its URL", () => {
  const telemetry = new ProxyTelemetry({ identity });
  assert.equal(telemetry.collectorFor({ tracingPercent: 1, collector: 'https://127.0.0.1:15000', collectorIsControlPlane: true }), 'https://127.0.0.1:15000');
});

test('no collector, no export', () => {
  const telemetry = new ProxyTelemetry({ identity, controlPlaneSpanSocket: '/run/trellis/xds.otlp.sock' });
  assert.equal(telemetry.collectorFor(undefined), undefined);
  assert.equal(telemetry.collectorFor({ accessLogPercent: 100 }), undefined);
});
