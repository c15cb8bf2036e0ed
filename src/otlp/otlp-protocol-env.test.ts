// The OTLP protocol as OpenTelemetry's exporters choose it: the flag, then
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL, then http/protobuf;
// a value that is none of the three names where it came from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOtlpProtocol } from './otlp-protocol-env.js';

const FLAG = '--forward-spans-protocol';

test('the flag wins, then the traces variable, then the general one, then http/protobuf', () => {
  const cases: [string | undefined, Record<string, string>, string][] = [
    [undefined, {}, 'http/protobuf'],
    [undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'grpc'],
    [undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, 'http/json'],
    [undefined, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '', OTEL_EXPORTER_OTLP_PROTOCOL: ' grpc ' }, 'grpc'],
    ['http/json', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'http/json'],
  ];
  for (const [flag, env, want] of cases) assert.deepEqual(resolveOtlpProtocol(FLAG, flag, env), { ok: true, value: want }, JSON.stringify([flag, env]));
});

test('a value that is not a protocol is an error naming its source', () => {
  assert.deepEqual(resolveOtlpProtocol(FLAG, 'http', {}), { ok: false, error: '--forward-spans-protocol=http is not valid: expected one of http/protobuf, http/json, grpc' });
  assert.deepEqual(resolveOtlpProtocol(FLAG, undefined, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'zipkin' }), {
    ok: false,
    error: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=zipkin is not valid: expected one of http/protobuf, http/json, grpc',
  });
});
