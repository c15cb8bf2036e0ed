import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMeshConfig } from './mesh-config.js';
import { assertOk, assertProblem, assertRoundTrip, DELETE, withField } from './problem-assert.js';
import { DEFAULT_MESH_CONFIG } from './resource.js';

const minimal = { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' } };

test('a MeshConfig without spec gets every default and no namespace', () => {
  assert.deepEqual(assertOk(parseMeshConfig(minimal)), { ...minimal, spec: DEFAULT_MESH_CONFIG });
});

test('an empty spec (null in YAML) gets every default', () => {
  assert.deepEqual(assertOk(parseMeshConfig(withField(minimal, 'spec', null))).spec, DEFAULT_MESH_CONFIG);
});

test('given fields are kept, missing ones defaulted', () => {
  const r = assertOk(parseMeshConfig(withField(minimal, 'spec', { loadBalancer: 'LeastRequest', connectTimeoutMs: 250 })));
  assert.deepEqual(r.spec, { ...DEFAULT_MESH_CONFIG, loadBalancer: 'LeastRequest', workloadGracePeriodSeconds: 30, connectTimeoutMs: 250 });
});

test('transparent-mode fields are kept', () => {
  const r = assertOk(parseMeshConfig(withField(minimal, 'spec', { virtualIpRange: '10.96.0.0/12', outboundPolicy: 'Refuse', protocolDetectionTimeoutMs: 100 })));
  assert.equal(r.spec.virtualIpRange, '10.96.0.0/12');
  assert.equal(r.spec.outboundPolicy, 'Refuse');
  assert.equal(r.spec.protocolDetectionTimeoutMs, 100);
  assertRoundTrip(parseMeshConfig, r);
});

test('the OTLP protocol is kept when given, and absent otherwise (the translator applies http/protobuf for a collector, http/json for the control plane)', () => {
  for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
    const r = assertOk(parseMeshConfig(withField(minimal, 'spec', { tracing: { collector: 'http://otel:4317', protocol } })));
    assert.deepEqual(r.spec.tracing, { samplingPercent: 1, collector: 'http://otel:4317', protocol });
    assertRoundTrip(parseMeshConfig, r);
  }
  const json = assertOk(parseMeshConfig(withField(minimal, 'spec', { tracing: { protocol: 'http/json' } })));
  assert.deepEqual(json.spec.tracing, { samplingPercent: 1, protocol: 'http/json' }, "http/json and http/protobuf need no collector: the control plane's receiver takes both");
});

test('the limits themselves are accepted', () => {
  const r = assertOk(parseMeshConfig(withField(minimal, 'spec', { workloadGracePeriodSeconds: 0, connectTimeoutMs: 60000 })));
  assert.equal(r.spec.workloadGracePeriodSeconds, 0);
  assert.equal(r.spec.connectTimeoutMs, 60000);
  assertRoundTrip(parseMeshConfig, r);
});

test('tracing and access log settings are kept with their defaults filled in; a collector loses its trailing slash', () => {
  const r = assertOk(parseMeshConfig(withField(minimal, 'spec', { tracing: { collector: 'http://otel.example:4318/' }, accessLog: { enabled: true } })));
  assert.deepEqual(r.spec.tracing, { samplingPercent: 1, collector: 'http://otel.example:4318' });
  assert.deepEqual(r.spec.accessLog, { enabled: true, samplingPercent: 100 });
  assertRoundTrip(parseMeshConfig, r);
  assert.equal(assertOk(parseMeshConfig(minimal)).spec.tracing, undefined, 'absent: the control plane applies its default');
});

test('access log fields and filter are kept as given', () => {
  const accessLog = { enabled: true, samplingPercent: 50, fields: ['response_code', 'client_address', 'span_id'], filter: { minStatusCode: 500, minDurationMs: 250 } };
  const r = assertOk(parseMeshConfig(withField(minimal, 'spec', { accessLog })));
  assert.deepEqual(r.spec.accessLog, accessLog);
  assertRoundTrip(parseMeshConfig, r);
});

test('an unknown access log field is named with its position and the fields there are', () => {
  const r = parseMeshConfig(withField(minimal, 'spec', { accessLog: { enabled: true, fields: ['response_code', 'status'] } }));
  assertProblem(r, 'spec.accessLog.fields[1]', 'must be one of start_time, direction, method,');
  assertProblem(r, 'spec.accessLog.fields[1]', 'span_id, user_agent, request_id, got "status"');
});

const invalid: [string, string, unknown, string][] = [
  ['another name', 'metadata.name', 'mesh', 'must be "default" (there is one MeshConfig per mesh), got "mesh"'],
  ['a namespace', 'metadata.namespace', 'default', 'must not be set: MeshConfig is not namespaced'],
  ['the wrong apiVersion', 'apiVersion', 'v1', 'must be "trellis.dev/v1alpha1" for kind MeshConfig'],
  ['no metadata', 'metadata', DELETE, 'required'],
  ['an unknown policy', 'spec.loadBalancer', 'Random', 'must be one of "RoundRobin", "LeastRequest", got "Random"'],
  ['a negative grace period', 'spec.workloadGracePeriodSeconds', -1, 'must be >= 0, got -1'],
  ['a grace period over an hour', 'spec.workloadGracePeriodSeconds', 3601, 'must be <= 3600, got 3601'],
  ['a zero connect timeout', 'spec.connectTimeoutMs', 0, 'must be >= 1, got 0'],
  ['a connect timeout over a minute', 'spec.connectTimeoutMs', 60001, 'must be <= 60000, got 60001'],
  ['a connect timeout as text', 'spec.connectTimeoutMs', '5s', 'got "5s"'],
  ['a misspelt field', 'spec.loadBalancing', 'RoundRobin', 'did you mean "loadBalancer"?'],
  ['a spec that is a list', 'spec', [], 'must be a map, got a list'],
  ['a virtual IP range that is no CIDR', 'spec.virtualIpRange', '240.240.0.0', 'must be an IPv4 range in CIDR form'],
  ['a virtual IP range not on its boundary', 'spec.virtualIpRange', '240.240.1.0/16', 'is not the first address of a /16 (240.240.0.0/16)'],
  ['a virtual IP range too small', 'spec.virtualIpRange', '240.240.0.0/31', 'prefix length must be 8..30'],
  ['an unknown outbound policy', 'spec.outboundPolicy', 'Allow', 'must be one of "PassThrough", "Refuse", got "Allow"'],
  ['a zero detection timeout', 'spec.protocolDetectionTimeoutMs', 0, 'must be >= 1, got 0'],
  ['a sampling percentage over 100', 'spec.tracing.samplingPercent', 101, 'must be <= 100, got 101'],
  ['a collector that is not a URL', 'spec.tracing.collector', 'otel:4318', 'must be an http:// or https:// base URL'],
  ['a collector with a query', 'spec.tracing.collector', 'http://otel:4318/?x=1', 'must be an http:// or https:// base URL'],
  ['an access log switch as text', 'spec.accessLog.enabled', 'yes', 'got "yes"'],
  ['a negative access log sampling', 'spec.accessLog.samplingPercent', -5, 'must be >= 0, got -5'],
  ['an access log field named twice', 'spec.accessLog.fields', ['span_id', 'span_id'], 'must not name a field twice'],
  ['no access log fields', 'spec.accessLog.fields', [], 'must have at least 1 item(s), got 0'],
  ['an access log filter on a status that is not one', 'spec.accessLog.filter.minStatusCode', 700, 'must be <= 599, got 700'],
  ['an access log filter on a fractional duration', 'spec.accessLog.filter.minDurationMs', 2.5, 'got 2.5'],
  ['an empty access log filter', 'spec.accessLog.filter', {}, 'must set minStatusCode or minDurationMs'],
  ['an unknown access log filter field', 'spec.accessLog.filter.minStatus', 500, ''],
  ['an OTLP protocol that is not one', 'spec.tracing.protocol', 'http', 'must be one of "http/protobuf", "http/json", "grpc", got "http"'],
  [
    'OTLP/gRPC without a collector',
    'spec.tracing',
    { protocol: 'grpc' },
    "protocol grpc needs a collector (its gRPC endpoint, e.g. http://otel:4317): the control plane's own receiver takes OTLP over HTTP only",
  ],
];
for (const [name, path, value, fragment] of invalid) {
  test(`refuses ${name} at ${path}`, () => assertProblem(parseMeshConfig(withField(minimal, path, value)), path, fragment));
}
