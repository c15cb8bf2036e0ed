// Output formatting: tables, ages, YAML/JSON, error lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlDocuments } from '../api/load-yaml.js';
import { parseResource } from '../api/parse.js';
import { DEFAULT_MESH_CONFIG, type HTTPRoute, type MeshConfig, type Service } from '../api/resource.js';
import type { ProxyStatus } from '../api/proxy-status.js';
import { formatAge, formatClientError, formatTable, proxyTable, resourceTable, toJson, toYaml } from './output.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const service = (name: string, namespace = 'default', targetPort = 8080): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, resourceVersion: '3', creationTimestamp: ago(90) },
  spec: {
    selector: { app: name, version: 'v1' },
    ports: [
      { name: 'http', port: 8080, targetPort, protocol: 'TCP', appProtocol: 'http' },
      { port: 9090, targetPort: 9090, protocol: 'TCP', appProtocol: 'grpc' },
    ],
  },
});
const route: HTTPRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'reviews', namespace: 'default', creationTimestamp: ago(3 * 3600) },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 8080 }],
    rules: [
      {
        matches: [],
        backendRefs: [
          { group: '', kind: 'Service', name: 'reviews-v1', port: 8080, weight: 80 },
          { group: '', kind: 'Service', name: 'reviews-v2', port: 8080, weight: 20 },
        ],
      },
    ],
  },
};
const mesh: MeshConfig = { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default', creationTimestamp: ago(86400 * 3) }, spec: DEFAULT_MESH_CONFIG };

test('a table aligns columns three spaces apart without trailing spaces', () => {
  assert.equal(
    formatTable(
      ['NAME', 'AGE'],
      [
        ['a', '5s'],
        ['longer-name', '10m'],
      ],
    ),
    'NAME          AGE\na             5s\nlonger-name   10m\n',
  );
});

test('a table with no rows is just the header', () => {
  assert.equal(formatTable(['NAME', 'AGE'], []), 'NAME   AGE\n');
});

for (const [seconds, expected] of [
  [0, '0s'],
  [59, '59s'],
  [119, '119s'],
  [120, '2m'],
  [185, '3m5s'],
  [600, '10m'],
  [179 * 60, '179m'],
  [3 * 3600, '3h'],
  [5 * 3600 + 600, '5h10m'],
  [20 * 3600, '20h'],
  [50 * 3600, '2d2h'],
  [3 * 86400, '3d'],
  [40 * 86400, '40d'],
  [800 * 86400, '2y70d'],
  [9 * 365 * 86400, '9y'],
] as const) {
  test(`an age of ${seconds}s reads ${expected}`, () => assert.equal(formatAge(ago(seconds), NOW), expected));
}

test('an age without a timestamp is <unknown>, and a future one 0s', () => {
  assert.equal(formatAge(undefined, NOW), '<unknown>');
  assert.equal(formatAge(ago(-30), NOW), '0s');
});

test('the Service table shows ports as port[:targetPort]/appProtocol; wide adds the selector', () => {
  assert.equal(resourceTable('Service', [service('web', 'default', 3000)], { now: NOW }), 'NAME   PORTS                      AGE\nweb    8080:3000/http,9090/grpc   90s\n');
  assert.match(resourceTable('Service', [service('web')], { now: NOW, wide: true }), /SELECTOR\n.*app=web,version=v1\n$/);
});

test('with all namespaces the table starts with a NAMESPACE column', () => {
  const out = resourceTable('Service', [service('a'), service('b', 'shop')], { now: NOW, showNamespace: true });
  assert.deepEqual(
    out.split('\n').map((l) => l.split(/\s+/)[0]),
    ['NAMESPACE', 'default', 'shop', ''],
  );
});

test('the HTTPRoute table shows parents, hostnames and rules; wide adds weighted backends', () => {
  assert.equal(resourceTable('HTTPRoute', [route], { now: NOW }), 'NAME      PARENTS        HOSTNAMES   RULES   AGE\nreviews   reviews:8080   *           1       3h\n');
  assert.match(resourceTable('HTTPRoute', [route], { now: NOW, wide: true }), /reviews-v1:8080=80,reviews-v2:8080=20\n$/);
});

test('the MeshConfig table shows its settings', () => {
  assert.equal(
    resourceTable('MeshConfig', [mesh], { now: NOW }),
    'NAME      LOAD-BALANCER   CONNECT-TIMEOUT   GRACE-PERIOD   AGE\ndefault   RoundRobin      5000ms            30s            3d\n',
  );
});

test('the proxy table shows sync state and lists the latest NACK per type under it', () => {
  const proxies: ProxyStatus[] = [
    {
      id: 'web-1',
      service: 'web',
      namespace: 'default',
      address: '10.0.0.1',
      connected: true,
      lastSeen: ago(5),
      versions: { listeners: '4', routes: '3', clusters: '4', endpoints: '7' },
      nacks: [
        { typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', version: '2', nonce: 'a', message: 'old problem', at: ago(600) },
        { typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', version: '4', nonce: 'b', message: 'invalid regex "("', at: ago(60) },
      ],
    },
    {
      id: 'db-1',
      kind: 'grpc',
      service: 'db',
      namespace: 'shop',
      address: '10.0.0.2',
      connected: false,
      lastSeen: ago(300),
      versions: { listeners: '', routes: '', clusters: '', endpoints: '' },
      nacks: [],
    },
  ];
  assert.equal(
    proxyTable(proxies, { now: NOW }),
    [
      'ID      KIND      SERVICE   NAMESPACE   ADDRESS    STATUS         LAST-SEEN   VERSIONS(L/R/C/E)   NACKS',
      'web-1   sidecar   web       default     10.0.0.1   connected      5s          4/3/4/7             2',
      'db-1    grpc      db        shop        10.0.0.2   disconnected   5m          -/-/-/-             0',
      '',
      'NACKs (latest per proxy and type):',
      '  web-1 refused RouteConfiguration version 4 60s ago: invalid regex "("',
      '',
    ].join('\n'),
  );
});

test('the wide proxy table adds the xDS client, what each proxy reports of its endpoint, and its warnings', () => {
  const base = {
    namespace: 'default',
    address: '10.0.0.1',
    connected: true,
    lastSeen: ago(5),
    versions: { listeners: '1', routes: '1', clusters: '1', endpoints: '1' },
    nacks: [],
  };
  const proxies: ProxyStatus[] = [
    { ...base, id: 'web-1', service: 'web', readiness: 'draining', warnings: ['two TrafficPolicies target Service default/web'] },
    { ...base, id: 'envoy-1', service: 'api' },
    { ...base, id: 'app-1', kind: 'grpc', service: 'app', userAgent: { name: 'grpc-node-js', version: '1.14.1' } },
  ];
  assert.deepEqual(proxyTable(proxies, { wide: true, now: NOW }).split('\n'), [
    'ID        KIND      SERVICE   NAMESPACE   ADDRESS    STATUS      LAST-SEEN   VERSIONS(L/R/C/E)   NACKS   CLIENT                ENDPOINT   WARNINGS',
    'web-1     sidecar   web       default     10.0.0.1   connected   5s          1/1/1/1             0       -                     draining   two TrafficPolicies target Service default/web',
    'envoy-1   sidecar   api       default     10.0.0.1   connected   5s          1/1/1/1             0       -                     -          <none>',
    'app-1     grpc      app       default     10.0.0.1   connected   5s          1/1/1/1             0       grpc-node-js/1.14.1   -          <none>',
    '',
  ]);
});

test('YAML output is documents separated by --- that parse back to the same resources', () => {
  const text = toYaml([service('a'), route]);
  assert.equal(text.split('\n').filter((l) => l === '---').length, 1);
  const parsed = parseYamlDocuments(text, 'out.yaml');
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.error));
  assert.deepEqual(
    parsed.value.map((r) => r.metadata.name),
    ['a', 'reviews'],
  );
  assert.deepEqual((parsed.value[0] as Service).spec, service('a').spec);
});

test('JSON output is the object for one resource and a List for several', () => {
  assert.equal(JSON.parse(toJson([mesh], true)).kind, 'MeshConfig');
  const list = JSON.parse(toJson([mesh, route], false));
  assert.equal(list.kind, 'List');
  assert.equal(list.items.length, 2);
});

test('a client error is one line; server validation problems are one line each', () => {
  assert.deepEqual(formatClientError({ code: 'STORE_CONFLICT', message: 'Service default/a has resourceVersion 2, but the change expected 1' }), [
    'error: Service default/a has resourceVersion 2, but the change expected 1',
  ]);
  assert.deepEqual(
    formatClientError({
      code: 'VALIDATION_FAILED',
      message: '2 problems',
      problems: [
        { resource: 'HTTPRoute default/r', path: 'spec.rules[0].backendRefs[0].weight', message: 'must be >= 0, got -1' },
        { resource: 'resources[1]', path: '', message: 'must be a map' },
      ],
    }),
    ['HTTPRoute default/r: spec.rules[0].backendRefs[0].weight: must be >= 0, got -1', 'resources[1]: must be a map'],
  );
});

test('TrafficPolicy, GRPCRoute and TCPRoute tables', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const parsed = parseYamlDocuments(
    `
apiVersion: trellis.dev/v1alpha1
kind: TrafficPolicy
metadata: {name: p}
spec: {targetRef: {name: payments}, loadBalancer: {type: Random}, retry: {attempts: 2}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g}
spec: {parentRefs: [{name: ledger, port: 9000}], rules: [{backendRefs: [{name: ledger-v1, port: 9000}]}]}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: t}
spec: {parentRefs: [{name: db, port: 5432}], rules: [{backendRefs: [{name: db-a, port: 5432, weight: 9}]}]}
`,
    'x.yaml',
  );
  assert.ok(parsed.ok);
  const [policy, grpc, tcp] = parsed.value;
  assert.equal(
    resourceTable('TrafficPolicy', [policy!], { now, wide: true }),
    'NAME   TARGET             SETTINGS             AGE         LOAD-BALANCER\np      Service/payments   loadBalancer,retry   <unknown>   Random\n',
  );
  assert.match(resourceTable('GRPCRoute', [grpc!], { now, wide: true }), /^g +ledger:9000 +1 +<unknown> +ledger-v1:9000=1\n$/m);
  assert.match(resourceTable('TCPRoute', [tcp!], { now }), /^t +db:5432 +db-a:5432=9 +<unknown>\n$/m);
});

test('the ExternalService table shows hosts, ports (with a target port when it differs), TLS origination, and wide the endpoints', () => {
  const now = new Date('2026-12-08T00:00:00Z');
  const parsed = parseResource({
    apiVersion: 'trellis.dev/v1alpha1',
    kind: 'ExternalService',
    metadata: { name: 'payments-api' },
    spec: {
      hosts: ['api.example.com', 'api2.example.com'],
      ports: [
        { port: 80, targetPort: 443, protocol: 'http' },
        { port: 5432, protocol: 'tcp' },
      ],
      tls: { mode: 'Originate' },
    },
  });
  assert.ok(parsed.ok);
  assert.equal(
    resourceTable('ExternalService', [parsed.value], { now, wide: true }),
    'NAME           HOSTS                              PORTS                  TLS         AGE         ENDPOINTS\n' +
      'payments-api   api.example.com,api2.example.com   80:443/http,5432/tcp   Originate   <unknown>   <dns>\n',
  );
});

test("the proxy table says each node's kind: a sidecar, or a proxyless gRPC app", () => {
  const base = {
    namespace: 'default',
    address: '10.0.0.1',
    connected: true,
    lastSeen: ago(5),
    versions: { listeners: '1', routes: '1', clusters: '1', endpoints: '1' },
    nacks: [],
  };
  const proxies: ProxyStatus[] = [
    { ...base, id: 'web-1', service: 'web' },
    { ...base, id: 'grpc~10.0.0.1:50051~payments.default', kind: 'grpc', service: 'payments' },
  ];
  assert.deepEqual(proxyTable(proxies, { now: NOW }).split('\n'), [
    'ID                                     KIND      SERVICE    NAMESPACE   ADDRESS    STATUS      LAST-SEEN   VERSIONS(L/R/C/E)   NACKS',
    'web-1                                  sidecar   web        default     10.0.0.1   connected   5s          1/1/1/1             0',
    'grpc~10.0.0.1:50051~payments.default   grpc      payments   default     10.0.0.1   connected   5s          1/1/1/1             0',
    '',
  ]);
});
