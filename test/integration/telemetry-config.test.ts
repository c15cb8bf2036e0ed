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

test("without a MeshConfig collector the control plane's receiver is used at 1 % over OTLP/JSON, marked as the control plane's; access logs stay off", () => {
  const r = decodeListener(wire(httpListener(place, 'routes', hcmTelemetry(DEFAULT_MESH_CONFIG, 'http://127.0.0.1:15000'))));
  assert.ok(r.ok);
  // collectorIsControlPlane: a proxy that reaches xDS over a Unix socket sends these spans over the receiver's socket.
  assert.deepEqual(r.value.protocol === 'http' && r.value.telemetry, {
    tracingPercent: 1,
    collector: 'http://127.0.0.1:15000',
    collectorProtocol: 'http/json',
    collectorIsControlPlane: true,
  });
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

test('access log fields and filter reach the proxy through protobuf as a json_format and status/duration filters', () => {
  const accessLog = {
    enabled: true,
    samplingPercent: 100,
    fields: ['response_code' as const, 'client_address' as const, 'span_id' as const],
    filter: { minStatusCode: 500, minDurationMs: 250 },
  };
  const r = decodeListener(wire(httpListener(place, 'routes', hcmTelemetry({ ...DEFAULT_MESH_CONFIG, accessLog }, undefined))));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  assert.deepEqual(r.value.protocol === 'http' && r.value.telemetry, {
    accessLogPercent: 100,
    accessLogFilter: { minStatusCode: 500, minDurationMs: 250 },
    accessLogFormat: [
      ['response_code', 'response_code'],
      ['client_address', 'client_address'],
      ['span_id', 'span_id'],
    ],
  });
  const one = decodeListener(
    wire(httpListener(place, 'routes', hcmTelemetry({ ...DEFAULT_MESH_CONFIG, accessLog: { enabled: true, samplingPercent: 10, filter: { minStatusCode: 400 } } }, undefined))),
  );
  assert.ok(one.ok);
  assert.deepEqual(one.value.protocol === 'http' && one.value.telemetry, { accessLogPercent: 10, accessLogFilter: { minStatusCode: 400 } });
});

test('an access log operator or filter the proxy cannot honour is a NACK naming the field', () => {
  const accessLog = { enabled: true, samplingPercent: 100, fields: ['response_code' as const], filter: { minStatusCode: 500 } };
  const fresh = () => httpListener(place, 'routes', hcmTelemetry({ ...DEFAULT_MESH_CONFIG, accessLog }, undefined)) as any;
  const problems = (l: object) => {
    const r = decodeListener(wire(l));
    assert.ok(!r.ok, 'refused');
    return r.error.map((p) => `${p.path}: ${p.message}`).join('\n');
  };
  const op = fresh();
  op.filterChains[0].filters[0].typedConfig.accessLog[0].typedConfig.logFormat.jsonFormat.fields.upstream = { stringValue: '%UPSTREAM_TRANSPORT_FAILURE_REASON%' };
  assert.match(
    problems(op),
    /accessLog\[0\]\.typedConfig\.logFormat\.jsonFormat\.upstream: must be a command operator Trellis proxy fills .*got "%UPSTREAM_TRANSPORT_FAILURE_REASON%"/,
  );
  const le = fresh();
  le.filterChains[0].filters[0].typedConfig.accessLog[0].filter.andFilter.filters[1].statusCodeFilter.comparison.op = 'LE';
  assert.match(problems(le), /accessLog\[0\]\.filter\.andFilter\.filters\[1\]\.statusCodeFilter\.comparison\.op: only GE is supported by Trellis proxy, got "LE"/);
  const header = fresh();
  header.filterChains[0].filters[0].typedConfig.accessLog[0].filter.andFilter.filters[1] = { headerFilter: { header: { name: 'x-debug', presentMatch: true } } };
  assert.match(problems(header), /accessLog\[0\]\.filter\.andFilter\.filters\[1\]\.headerFilter: Trellis proxy supports runtimeFilter/);
});
