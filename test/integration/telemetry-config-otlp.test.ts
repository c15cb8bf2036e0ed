// MeshConfig tracing.protocol travels translator -> Envoy HttpConnectionManager (encoded and
// decoded as protobuf, as on the wire) -> the proxy's listener telemetry: http/protobuf as
// OpenTelemetryConfig.http_service (what Envoy sends), grpc as its grpc_service with a
// google_grpc target (TLS for https), http/json as Trellis's own tracer in a TypedStruct.
// What the proxy cannot honour is refused with the field path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OtlpProtocol } from '../../src/api/telemetry.js';
import { DEFAULT_MESH_CONFIG } from '../../src/api/resource.js';
import { httpListener } from '../../src/control-plane/translator/listeners.js';
import { hcmTelemetry } from '../../src/control-plane/translator/telemetry.js';
import { decodeListener } from '../../src/proxy/xds/decode-listener.js';
import { decodeMessage, encodeMessage } from '../../src/xds/protos.js';
import { LISTENER } from '../../src/xds/type-urls.js';

const place = { name: 'outbound|127.0.0.1:9001', address: '127.0.0.1', port: 9001, direction: 'OUTBOUND' as const, statPrefix: 'x' };
const wire = (l: object) => decodeMessage(LISTENER, encodeMessage(LISTENER, l));
const listener = (collector: string | undefined, protocol?: OtlpProtocol) =>
  httpListener(
    place,
    'routes',
    hcmTelemetry({ ...DEFAULT_MESH_CONFIG, tracing: { samplingPercent: 100, ...(collector ? { collector } : {}), ...(protocol ? { protocol } : {}) } }, 'https://127.0.0.1:15000'),
  ) as any;
const tracerOf = (l: any) => l.filterChains[0].filters[0].typedConfig.tracing.provider.typedConfig;
const decoded = (l: object) => {
  const r = decodeListener(wire(l));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value.protocol === 'http' ? r.value.telemetry : undefined;
};
const problems = (l: object) => {
  const r = decodeListener(wire(l));
  assert.ok(!r.ok, 'refused');
  return r.error.map((p) => `${p.path}: ${p.message}`).join('\n');
};

test('each protocol reaches the proxy the way Envoy says it', () => {
  const protobufDefault = listener('http://otel:4318');
  assert.ok(tracerOf(protobufDefault).httpService, 'http/protobuf (the default) is an http_service');
  assert.deepEqual(decoded(protobufDefault), { tracingPercent: 100, collector: 'http://otel:4318' });
  assert.deepEqual(decoded(listener('http://otel:4318', 'http/protobuf')), { tracingPercent: 100, collector: 'http://otel:4318' });

  const grpc = listener('http://otel:4317', 'grpc');
  assert.deepEqual(tracerOf(grpc).grpcService.googleGrpc, { targetUri: 'otel:4317', statPrefix: 'otlp_traces' });
  assert.deepEqual(decoded(grpc), { tracingPercent: 100, collector: 'http://otel:4317', collectorProtocol: 'grpc' });
  const grpcTls = listener('https://otel.example:4317', 'grpc');
  assert.deepEqual(tracerOf(grpcTls).grpcService.googleGrpc.channelCredentials, { sslCredentials: {} });
  assert.deepEqual(decoded(grpcTls), { tracingPercent: 100, collector: 'https://otel.example:4317', collectorProtocol: 'grpc' });

  const json = listener('http://otel:4318', 'http/json');
  assert.equal(tracerOf(json)['@type'], 'type.googleapis.com/xds.type.v3.TypedStruct');
  assert.equal(tracerOf(json).typeUrl, 'type.googleapis.com/trellis.config.trace.v1.OtlpHttpJsonConfig');
  assert.deepEqual(decoded(json), { tracingPercent: 100, collector: 'http://otel:4318', collectorProtocol: 'http/json' });
  // Spans to the control plane's own receiver are JSON unless the MeshConfig says otherwise
  // (no protobuf serializer in a sidecar that needs none), and protobuf when it asks.
  const toControlPlane = { tracingPercent: 100, collector: 'https://127.0.0.1:15000', collectorIsControlPlane: true };
  assert.deepEqual(decoded(listener(undefined)), { ...toControlPlane, collectorProtocol: 'http/json' });
  assert.deepEqual(decoded(listener(undefined, 'http/json')), { ...toControlPlane, collectorProtocol: 'http/json' });
  assert.deepEqual(decoded(listener(undefined, 'http/protobuf')), toControlPlane);
});

test('an exporter the proxy cannot honour is a NACK naming the field', () => {
  const at = 'filterChains[0].filters[0].typedConfig.tracing.provider.typedConfig';
  const envoyGrpc = listener('http://otel:4317', 'grpc');
  tracerOf(envoyGrpc).grpcService = { envoyGrpc: { clusterName: 'otel' } };
  assert.match(problems(envoyGrpc), new RegExp(`${at.replace(/[[\].]/g, '\\$&')}\\.grpcService\\.envoyGrpc: .*use googleGrpc\\.targetUri`));
  const noPort = listener('http://otel:4317', 'grpc');
  tracerOf(noPort).grpcService.googleGrpc.targetUri = 'otel';
  assert.match(problems(noPort), /grpcService\.googleGrpc\.targetUri: must be host:port, got "otel"/);
  const localCreds = listener('http://otel:4317', 'grpc');
  tracerOf(localCreds).grpcService.googleGrpc.channelCredentials = { localCredentials: {} };
  assert.match(problems(localCreds), /grpcService\.googleGrpc\.channelCredentials: only sslCredentials/);
  const otherStruct = listener('http://otel:4318', 'http/json');
  tracerOf(otherStruct).typeUrl = 'type.googleapis.com/acme.Tracer';
  assert.match(
    problems(otherStruct),
    /typedConfig\.typeUrl: must be type\.googleapis\.com\/trellis\.config\.trace\.v1\.OtlpHttpJsonConfig \(OTLP\/HTTP JSON\), got "type\.googleapis\.com\/acme\.Tracer"/,
  );
  const badUri = listener('http://otel:4318', 'http/json');
  tracerOf(badUri).value.fields.httpService.structValue.fields.httpUri.structValue.fields.uri = { stringValue: 'http://otel:4318/traces' };
  assert.match(problems(badUri), /typedConfig\.value\.httpService\.httpUri\.uri: must be an http\(s\) URL ending in \/v1\/traces/);
});
