// MeshConfig tracing and access log settings travel the whole way: translator -> Envoy
// HttpConnectionManager (encoded and decoded as protobuf, as on the wire) -> the proxy's
// listener telemetry. What the proxy cannot honour is refused with the field path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MESH_CONFIG } from '../../src/api/resource.js';
import { httpListener } from '../../src/control-plane/translator/listeners.js';
import { hcmTelemetry } from '../../src/control-plane/translator/telemetry.js';
import { decodeListener } from '../../src/proxy/xds/decode-listener.js';
import { decodeMessage, encodeMessage } from '../../src/xds/protos.js';
import { LISTENER } from '../../src/xds/type-urls.js';

const place = { name: 'outbound|127.0.0.1:9001', address: '127.0.0.1', port: 9001, direction: 'OUTBOUND' as const, statPrefix: 'x' };
const wire = (l: object) => decodeMessage(LISTENER, encodeMessage(LISTENER, l));

test('sampling, collector and access log sampling reach the proxy through protobuf', () => {
  const telemetry = hcmTelemetry(
    { ...DEFAULT_MESH_CONFIG, tracing: { samplingPercent: 12.5, collector: 'http://otel.example:4318' }, accessLog: { enabled: true, samplingPercent: 25 } },
    'http://127.0.0.1:15000',
  );
  const r = decodeListener(wire(httpListener(place, 'routes', telemetry)));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  assert.deepEqual(r.value.protocol === 'http' && r.value.telemetry, { tracingPercent: 12.5, collector: 'http://otel.example:4318', accessLogPercent: 25 });
});

test("without a MeshConfig collector the control plane's receiver is used at 1 %, marked as the control plane's; access logs stay off", () => {
  const r = decodeListener(wire(httpListener(place, 'routes', hcmTelemetry(DEFAULT_MESH_CONFIG, 'http://127.0.0.1:15000'))));
  assert.ok(r.ok);
  // collectorIsControlPlane: a proxy that reaches xDS over a Unix socket sends these spans over the receiver's socket.
  assert.deepEqual(r.value.protocol === 'http' && r.value.telemetry, { tracingPercent: 1, collector: 'http://127.0.0.1:15000', collectorIsControlPlane: true });
  const none = decodeListener(wire(httpListener(place, 'routes', hcmTelemetry(DEFAULT_MESH_CONFIG, undefined))));
  assert.ok(none.ok);
  assert.equal(none.value.protocol === 'http' && none.value.telemetry, undefined);
});

test('a tracer or exporter the proxy cannot honour is a NACK naming the field', () => {
  const base = httpListener(place, 'routes', hcmTelemetry(DEFAULT_MESH_CONFIG, 'http://127.0.0.1:15000')) as any;
  const hcm = base.filterChains[0].filters[0].typedConfig;
  hcm.tracing.provider.typedConfig = { '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig' };
  const r = decodeListener(base);
  assert.ok(!r.ok);
  assert.match(r.error.map((p) => `${p.path}: ${p.message}`).join('\n'), /filterChains\[0\]\.filters\[0\]\.typedConfig\.tracing\.provider\.typedConfig/);
  hcm.tracing.provider.typedConfig = { '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig', grpcService: { envoyGrpc: { clusterName: 'x' } } };
  const grpc = decodeListener(base);
  assert.ok(!grpc.ok);
  assert.match(grpc.error[0]!.message, /OTLP over gRPC is not supported/);
});
