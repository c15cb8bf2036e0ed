import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertOk, assertProblem, assertRoundTrip, DELETE, withField } from './problem-assert.js';
import { parseService } from './service.js';

const minimal = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'payments' },
  spec: { selector: { app: 'payments' }, ports: [{ port: 8080 }] },
};

test('a minimal Service gets namespace default, targetPort = port, TCP and http', () => {
  assert.deepEqual(assertOk(parseService(minimal)), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'payments', namespace: 'default' },
    spec: { selector: { app: 'payments' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' }] },
  });
});

test('explicit fields are kept', () => {
  const s = assertOk(parseService(withField(minimal, 'spec.ports', [{ name: 'grpc', port: 9090, targetPort: 19090, protocol: 'TCP', appProtocol: 'grpc' }])));
  assert.deepEqual(s.spec.ports, [{ name: 'grpc', port: 9090, targetPort: 19090, protocol: 'TCP', appProtocol: 'grpc' }]);
});

test('appProtocol kubernetes.io/h2c means http2', () => {
  assert.equal(assertOk(parseService(withField(minimal, 'spec.ports[0].appProtocol', 'kubernetes.io/h2c'))).spec.ports[0]!.appProtocol, 'http2');
});

test('resourceVersion is kept (as a string); status and creationTimestamp are dropped', () => {
  const raw = withField(withField(withField(minimal, 'metadata.resourceVersion', 42), 'metadata.creationTimestamp', '2024-01-01T00:00:00Z'), 'status', { loadBalancer: {} });
  const s = assertOk(parseService(raw));
  assert.equal(s.metadata.resourceVersion, '42');
  assert.equal('creationTimestamp' in s.metadata, false);
  assert.equal('status' in s, false);
});

test('labels and annotations are kept', () => {
  const raw = withField(withField(minimal, 'metadata.labels', { 'app.kubernetes.io/name': 'payments' }), 'metadata.annotations', { note: 'any text at all' });
  const s = assertOk(parseService(raw));
  assert.deepEqual(s.metadata.labels, { 'app.kubernetes.io/name': 'payments' });
  assert.deepEqual(s.metadata.annotations, { note: 'any text at all' });
});

test('a service-accounts annotation listing service names is kept as written', () => {
  const s = assertOk(parseService(withField(minimal, 'metadata.annotations', { 'trellis.io/service-accounts': 'reviews-v2, ratings' })));
  assert.deepEqual(s.metadata.annotations, { 'trellis.io/service-accounts': 'reviews-v2, ratings' });
});

test('a parsed Service survives a YAML round trip unchanged', () => {
  const raw = withField(withField(minimal, 'metadata.resourceVersion', '7'), 'spec.ports', [
    { name: 'http', port: 8080 },
    { name: 'admin', port: 9901, appProtocol: 'http2' },
  ]);
  assertRoundTrip(parseService, assertOk(parseService(raw)));
});

const invalid: [string, string, unknown, string][] = [
  ['apiVersion', 'apiVersion', 'apps/v1', 'must be "v1" for kind Service, got "apps/v1"'],
  ['no metadata', 'metadata', DELETE, 'required'],
  ['no name', 'metadata.name', DELETE, 'required'],
  ['a name that is not a DNS label', 'metadata.name', 'Payments', 'must be a DNS-1123 label'],
  ['a dotted name', 'metadata.name', 'pay.ments', 'must be a DNS-1123 label'],
  ['a bad namespace', 'metadata.namespace', 'My NS', 'must be a DNS-1123 label'],
  ['a misspelt metadata field', 'metadata.namspace', 'x', 'unknown field "namspace" (did you mean "namespace"?)'],
  ['a label value that is a number', 'metadata.labels.version', 2, 'quote it in YAML: "2"'],
  ['a non-decimal resourceVersion', 'metadata.resourceVersion', 'abc', 'must be a decimal string'],
  ['no spec', 'spec', DELETE, 'required'],
  ['no selector', 'spec.selector', DELETE, 'required'],
  ['an empty selector', 'spec.selector', {}, 'must select at least one label'],
  ['a bad selector key', 'spec.selector["bad key"]', 'x', 'key must be'],
  ['no ports', 'spec.ports', DELETE, 'required'],
  ['empty ports', 'spec.ports', [], 'must have at least 1 item(s), got 0'],
  ['port 0', 'spec.ports[0].port', 0, 'must be >= 1, got 0'],
  ['port 65536', 'spec.ports[0].port', 65536, 'must be <= 65535, got 65536'],
  ['a port as a string', 'spec.ports[0].port', '8080', 'got "8080"'],
  ['a named targetPort', 'spec.ports[0].targetPort', 'http', 'named target ports are not supported'],
  ['targetPort 0', 'spec.ports[0].targetPort', 0, 'must be >= 1, got 0'],
  ['UDP', 'spec.ports[0].protocol', 'UDP', 'protocol UDP is not supported'],
  ['SCTP', 'spec.ports[0].protocol', 'SCTP', 'protocol SCTP is not supported'],
  ['a protocol in lowercase', 'spec.ports[0].protocol', 'tcp', 'must be "TCP", got "tcp"'],
  ['an unknown appProtocol', 'spec.ports[0].appProtocol', 'https', 'must be one of "http", "http2", "grpc", "tcp"'],
  ['a bad port name', 'spec.ports[0].name', 'HTTP', 'must be a DNS-1123 label'],
  ['a typo in a port', 'spec.ports[0].prot', 80, 'unknown field "prot"'],
  ['nodePort', 'spec.ports[0].nodePort', 30000, 'is not supported'],
  ['type', 'spec.type', 'ClusterIP', 'field "type" is not supported'],
  ['a typo in spec', 'spec.selectr', {}, 'unknown field "selectr" (did you mean "selector"?)'],
  ['an unknown top-level field', 'sepc', {}, 'unknown field "sepc"'],
  [
    'a service-accounts annotation with a bad name',
    'metadata.annotations["trellis.io/service-accounts"]',
    'reviews, Ratings V2',
    'each comma-separated entry must be a service name: must be a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters), got "Ratings V2"',
  ],
  [
    'an empty service-accounts annotation',
    'metadata.annotations["trellis.io/service-accounts"]',
    ' , ',
    'must list at least one service name (comma-separated, e.g. "reviews-v2,ratings"), got " , "',
  ],
];

for (const [name, path, value, fragment] of invalid) {
  test(`refuses ${name} at ${path}`, () => assertProblem(parseService(withField(minimal, path, value)), path, fragment));
}

test('refuses duplicate port names and numbers at the later port', () => {
  const r = parseService(
    withField(minimal, 'spec.ports', [
      { name: 'http', port: 80 },
      { name: 'http', port: 81 },
      { name: 'b', port: 80 },
    ]),
  );
  assertProblem(r, 'spec.ports[1].name', 'duplicate port name "http", already used by ports[0]');
  assertProblem(r, 'spec.ports[2].port', 'duplicate port 80, already used by ports[0]');
});
