// The REST API over a real HTTP server on 127.0.0.1: routes, apply semantics, validation and error answers.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { parseResource } from '../../api/parse.js';
import { createMemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/store.js';
import { createRestApi } from './rest-api.js';
import type { ProxyStatus, RestApiDeps } from './types.js';
import { selfSigned, tlsSecretDoc } from '../../api/testing/self-signed.js';

const svc = (name: string, extra: { namespace?: string; port?: number } = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}) },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: extra.port ?? 8080, appProtocol: 'http' }] },
});
const route = (name: string, weight = 1) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'a', port: 8080 }], rules: [{ backendRefs: [{ name: 'a', port: 8080, weight }] }] },
});
const mesh = (loadBalancer = 'RoundRobin') => ({ apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { loadBalancer } });

interface Api {
  url: string;
  store: Store;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
}

async function startApi(t: TestContext, extra: Partial<RestApiDeps> = {}): Promise<Api> {
  const store = createMemoryStore();
  const server = http.createServer(createRestApi({ store, parseResource, ...extra }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call: Api['call'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, signal: AbortSignal.timeout(5000) };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(url + path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  return { url, store, call };
}

test('GET /healthz answers ok with the store revision', async (t) => {
  const api = await startApi(t);
  assert.deepEqual((await api.call('GET', '/healthz')).body, { status: 'ok', revision: 0 });
});

test('apply creates, then reports configured and unchanged, in request order', async (t) => {
  const api = await startApi(t);
  const first = await api.call('POST', '/api/v1/apply', { resources: [svc('a'), svc('b'), route('r')] });
  assert.equal(first.status, 200);
  assert.deepEqual(first.body, {
    revision: 1,
    dryRun: false,
    results: [
      { kind: 'Service', namespace: 'default', name: 'a', action: 'created', resourceVersion: '1' },
      { kind: 'Service', namespace: 'default', name: 'b', action: 'created', resourceVersion: '1' },
      { kind: 'HTTPRoute', namespace: 'default', name: 'r', action: 'created', resourceVersion: '1' },
    ],
  });
  const second = await api.call('POST', '/api/v1/apply', { resources: [svc('a'), svc('b', { port: 9090 }), route('r')] });
  assert.deepEqual(
    second.body.results.map((r: any) => `${r.name}:${r.action}:${r.resourceVersion}`),
    ['a:unchanged:1', 'b:configured:2', 'r:unchanged:1'],
  );
  assert.equal(second.body.revision, 2);
});

test('applying exactly what is stored changes nothing and does not bump the revision', async (t) => {
  const api = await startApi(t);
  await api.call('POST', '/api/v1/apply', { resources: [svc('a'), mesh()] });
  // What `get -o json` shows (with server fields) applies as unchanged.
  const stored = (await api.call('GET', '/api/v1/services/default/a')).body;
  const again = await api.call('POST', '/api/v1/apply', { resources: [stored, mesh()] });
  assert.deepEqual(
    again.body.results.map((r: any) => r.action),
    ['unchanged', 'unchanged'],
  );
  assert.equal(again.body.revision, 1);
  assert.equal(api.store.revision(), 1);
});

test("an invalid resource in an apply is a 400 with the parser's problems and nothing is stored", async (t) => {
  const api = await startApi(t);
  const bad = route('bad', -1);
  const res = await api.call('POST', '/api/v1/apply', { resources: [svc('ok'), bad] });
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'VALIDATION_FAILED');
  const parsed = parseResource(bad);
  assert.ok(!parsed.ok);
  assert.deepEqual(
    res.body.error.problems,
    parsed.error.map((p) => ({ resource: 'HTTPRoute default/bad', path: p.path, message: p.message })),
  );
  assert.ok(res.body.error.problems.some((p: any) => p.path === 'spec.rules[0].backendRefs[0].weight'));
  assert.equal(api.store.revision(), 0);
  assert.deepEqual((await api.call('GET', '/api/v1/services')).body.items, []);
});

test('problems of a document without kind or name are labelled by their index', async (t) => {
  const api = await startApi(t);
  const res = await api.call('POST', '/api/v1/apply', { resources: [svc('a'), { apiVersion: 'v1' }] });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body.error.problems, [
    {
      resource: 'resources[1]',
      path: 'kind',
      message:
        'required (one of Service, HTTPRoute, MeshConfig, AuthorizationPolicy, TrafficPolicy, GRPCRoute, TCPRoute, RequestAuthentication, ExternalService, GatewayClass, Gateway, Secret)',
    },
  ]);
});

test('one resource twice in an apply is a 400 naming both positions', async (t) => {
  const api = await startApi(t);
  const res = await api.call('POST', '/api/v1/apply', { resources: [svc('a'), svc('a', { port: 1 })] });
  assert.equal(res.status, 400);
  assert.match(res.body.error.problems[0].message, /Service default\/a appears twice in one apply \(resources\[0\] and resources\[1\]\)/);
});

test('an apply body that is not {resources: [...]} is a 400', async (t) => {
  const api = await startApi(t);
  const res = await api.call('POST', '/api/v1/apply', [svc('a')]);
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'BAD_REQUEST');
  assert.match(res.body.error.message, /\{"resources": \[\.\.\.\]\}/);
});

test('a dry-run apply answers what would happen and stores nothing', async (t) => {
  const api = await startApi(t);
  const res = await api.call('POST', '/api/v1/apply?dryRun=true', { resources: [svc('a')] });
  assert.equal(res.status, 200);
  assert.equal(res.body.dryRun, true);
  assert.equal(res.body.results[0].action, 'created');
  assert.equal(api.store.revision(), 0);
});

test('GET a list filters by ?namespace= and otherwise spans all namespaces', async (t) => {
  const api = await startApi(t);
  await api.call('POST', '/api/v1/apply', { resources: [svc('a'), svc('b', { namespace: 'shop' }), route('r')] });
  const all = await api.call('GET', '/api/v1/services');
  assert.equal(all.body.kind, 'ServiceList');
  assert.equal(all.body.metadata.resourceVersion, '1');
  assert.deepEqual(
    all.body.items.map((s: any) => `${s.metadata.namespace}/${s.metadata.name}`),
    ['default/a', 'shop/b'],
  );
  const shop = await api.call('GET', '/api/v1/services?namespace=shop');
  assert.deepEqual(
    shop.body.items.map((s: any) => s.metadata.name),
    ['b'],
  );
  assert.deepEqual(
    (await api.call('GET', '/api/v1/httproutes')).body.items.map((r: any) => r.metadata.name),
    ['r'],
  );
});

test('GET one resource answers it with its server fields; a missing one is a 404 STORE_NOT_FOUND', async (t) => {
  const api = await startApi(t);
  await api.call('POST', '/api/v1/apply', { resources: [svc('a')] });
  const got = await api.call('GET', '/api/v1/services/default/a');
  assert.equal(got.status, 200);
  assert.equal(got.body.metadata.resourceVersion, '1');
  assert.match(got.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(got.body.spec.ports[0].targetPort, 8080, 'parser defaults are stored');
  const missing = await api.call('GET', '/api/v1/services/default/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'STORE_NOT_FOUND');
  assert.match(missing.body.error.message, /Service default\/nope not found/);
});

test('the cluster-scoped MeshConfig lives at /api/v1/meshconfigs/{name}', async (t) => {
  const api = await startApi(t);
  const created = await api.call('POST', '/api/v1/meshconfigs', mesh());
  assert.equal(created.status, 201);
  const got = await api.call('GET', '/api/v1/meshconfigs/default');
  assert.equal(got.body.spec.loadBalancer, 'RoundRobin');
  const replaced = await api.call('PUT', '/api/v1/meshconfigs/default', mesh('LeastRequest'));
  assert.equal(replaced.status, 200);
  assert.equal(replaced.body.spec.loadBalancer, 'LeastRequest');
  const wrong = await api.call('GET', '/api/v1/meshconfigs/default/default');
  assert.equal(wrong.status, 404);
  assert.match(wrong.body.error.message, /MeshConfig is not namespaced; expected \/api\/v1\/meshconfigs\/\{name\}/);
});

test('POST creates (201) and refuses an existing resource with 409 STORE_ALREADY_EXISTS', async (t) => {
  const api = await startApi(t);
  const first = await api.call('POST', '/api/v1/services', svc('a'));
  assert.equal(first.status, 201);
  assert.equal(first.body.metadata.resourceVersion, '1');
  const again = await api.call('POST', '/api/v1/services', svc('a'));
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'STORE_ALREADY_EXISTS');
});

test('POST of a resource of another kind than the path is a 400 PATH_MISMATCH', async (t) => {
  const api = await startApi(t);
  const res = await api.call('POST', '/api/v1/httproutes', svc('a'));
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'PATH_MISMATCH');
  assert.match(res.body.error.message, /the body is Service default\/a, but \/api\/v1\/httproutes is for kind "HTTPRoute"/);
});

test('PUT replaces; a stale resourceVersion is a 409 STORE_CONFLICT naming both versions; a missing resource is a 404', async (t) => {
  const api = await startApi(t);
  await api.call('POST', '/api/v1/services', svc('a'));
  const v1 = (await api.call('GET', '/api/v1/services/default/a')).body;
  const updated = await api.call('PUT', '/api/v1/services/default/a', { ...svc('a', { port: 9090 }), metadata: { ...v1.metadata } });
  assert.equal(updated.status, 200);
  assert.equal(updated.body.metadata.resourceVersion, '2');
  assert.equal(updated.body.metadata.creationTimestamp, v1.metadata.creationTimestamp);
  const stale = await api.call('PUT', '/api/v1/services/default/a', { ...svc('a', { port: 1 }), metadata: { ...v1.metadata } });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.error.code, 'STORE_CONFLICT');
  assert.match(stale.body.error.message, /Service default\/a has resourceVersion 2, but the change expected 1/);
  const missing = await api.call('PUT', '/api/v1/services/default/nope', svc('nope'));
  assert.equal(missing.status, 404);
});

test('PUT whose body names another resource than the path is a 400 PATH_MISMATCH', async (t) => {
  const api = await startApi(t);
  const byName = await api.call('PUT', '/api/v1/services/default/a', svc('b'));
  assert.equal(byName.status, 400);
  assert.match(byName.body.error.message, /is for name "a" \(the body says "b"\)/);
  const byNamespace = await api.call('PUT', '/api/v1/services/shop/a', svc('a', { namespace: 'default' }));
  assert.match(byNamespace.body.error.message, /is for namespace "shop" \(the body says "default"\)/);
});

test('PUT of a body without a namespace takes the namespace of the path', async (t) => {
  const api = await startApi(t);
  await api.call('POST', '/api/v1/apply', { resources: [svc('a', { namespace: 'shop' })] });
  const res = await api.call('PUT', '/api/v1/services/shop/a', svc('a', { port: 1 }));
  assert.equal(res.status, 200);
  assert.equal(res.body.metadata.namespace, 'shop');
});

test('PUT with an invalid body is a 400 with the problems', async (t) => {
  const api = await startApi(t);
  const res = await api.call('PUT', '/api/v1/services/default/a', { ...svc('a'), spec: { selector: {}, ports: [] } });
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'VALIDATION_FAILED');
  assert.ok(res.body.error.problems.every((p: any) => p.resource === 'Service default/a'));
  assert.ok(res.body.error.problems.some((p: any) => p.path === 'spec.selector'));
});

test('DELETE answers the last state; again it is a 404; with a stale ?resourceVersion= it is a 409', async (t) => {
  const api = await startApi(t);
  await api.call('POST', '/api/v1/apply', { resources: [svc('a'), svc('b')] });
  const stale = await api.call('DELETE', '/api/v1/services/default/a?resourceVersion=7');
  assert.equal(stale.status, 409);
  const del = await api.call('DELETE', '/api/v1/services/default/a?resourceVersion=1');
  assert.equal(del.status, 200);
  assert.equal(del.body.metadata.name, 'a');
  assert.equal((await api.call('DELETE', '/api/v1/services/default/a')).status, 404);
  assert.deepEqual(
    (await api.call('GET', '/api/v1/services')).body.items.map((s: any) => s.metadata.name),
    ['b'],
  );
});

test('a body over 4 MiB is a 413, whether its length is declared or streamed', async (t) => {
  const api = await startApi(t);
  const big = JSON.stringify({ resources: [{ filler: 'x'.repeat(4 * 1024 * 1024) }] });
  const declared = await api.call('POST', '/api/v1/apply', big);
  assert.equal(declared.status, 413);
  assert.equal(declared.body.error.code, 'BODY_TOO_LARGE');
  const streamed = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request(`${api.url}/api/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 5 * 1024 * 1024) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(streamed.status, 413);
  assert.equal(api.store.revision(), 0);
});

test('a body that is not JSON by content-type is a 415; malformed JSON is a 400 INVALID_JSON', async (t) => {
  const api = await startApi(t);
  const yaml = await api.call('POST', '/api/v1/apply', 'resources: []', { 'content-type': 'application/yaml' });
  assert.equal(yaml.status, 415);
  assert.equal(yaml.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  const broken = await api.call('POST', '/api/v1/apply', '{"resources": [', { 'content-type': 'application/json; charset=utf-8' });
  assert.equal(broken.status, 400);
  assert.equal(broken.body.error.code, 'INVALID_JSON');
});

test('a method a route does not have is a 405 with an Allow header', async (t) => {
  const api = await startApi(t);
  const res = await api.call('DELETE', '/api/v1/services');
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, POST');
  assert.equal(res.body.error.code, 'METHOD_NOT_ALLOWED');
});

test('unknown paths and resource types are 404s that say what exists', async (t) => {
  const api = await startApi(t);
  const type = await api.call('GET', '/api/v1/deployments');
  assert.equal(type.status, 404);
  assert.match(type.body.error.message, /unknown resource type "deployments"; known: services, httproutes, meshconfigs/);
  assert.equal((await api.call('GET', '/nope')).status, 404);
  const short = await api.call('GET', '/api/v1/services/a');
  assert.match(short.body.error.message, /expected \/api\/v1\/services\/\{namespace\}\/\{name\}/);
});

test('POST /api/v1/store/backup answers every resource at one revision in the snapshot format; GET is a 405', async (t) => {
  const api = await startApi(t);
  await api.call('POST', '/api/v1/apply', { resources: [svc('a'), svc('b', { namespace: 'shop' })] });
  await api.call('POST', '/api/v1/apply', { resources: [mesh()] });
  const backup = await api.call('POST', '/api/v1/store/backup');
  assert.equal(backup.status, 200);
  assert.equal(backup.body.format, 'trellis-store-snapshot/1');
  assert.equal(backup.body.revision, 2);
  assert.deepEqual(
    backup.body.resources,
    (await api.store.list()).items.map((r) => JSON.parse(JSON.stringify(r))),
  );
  // A read-only operator token may only GET (security-api.ts), so the backup takes an admin token.
  const get = await api.call('GET', '/api/v1/store/backup');
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
});

test('GET /api/v1/proxies lists what the xDS side reports, and nothing without it', async (t) => {
  const proxy: ProxyStatus = {
    id: 'web-1',
    service: 'web',
    namespace: 'default',
    address: '127.0.0.1',
    connected: true,
    lastSeen: '2026-01-01T00:00:00Z',
    versions: { listeners: '3', routes: '3', clusters: '2', endpoints: '5' },
    nacks: [{ typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', version: '4', nonce: 'n1', message: 'bad regex', at: '2026-01-01T00:00:01Z' }],
  };
  const api = await startApi(t, { proxies: () => [proxy] });
  assert.deepEqual((await api.call('GET', '/api/v1/proxies')).body, { items: [proxy] });
  const bare = await startApi(t);
  assert.deepEqual((await bare.call('GET', '/api/v1/proxies')).body, { items: [] });
});

test('a closed store makes /healthz a 503 and writes a 503 STORE_CLOSED', async (t) => {
  const api = await startApi(t);
  await api.store.close();
  const health = await api.call('GET', '/healthz');
  assert.equal(health.status, 503);
  const write = await api.call('POST', '/api/v1/apply', { resources: [svc('a')] });
  assert.equal(write.status, 503);
  assert.equal(write.body.error.code, 'STORE_CLOSED');
});

test('a __proto__ label key is a 400 naming its path, and nothing is stored', async (t) => {
  const api = await startApi(t);
  const body = `{"resources":[${JSON.stringify(svc('a')).replace('"metadata":{"name":"a"}', '"metadata":{"name":"a","labels":{"__proto__":"x"}}')}]}`;
  const r = await api.call('POST', '/api/v1/apply', body);
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'BAD_REQUEST');
  assert.deepEqual(
    r.body.error.problems.map((p: { path: string }) => p.path),
    ['resources[0].metadata.labels.__proto__'],
  );
  assert.match(r.body.error.problems[0].message, /key "__proto__" is not allowed/);
  assert.equal(api.store.revision(), 0);
});

test('a body nested deeper than the limit is a 400 that says so, not a stack overflow', async (t) => {
  const api = await startApi(t);
  const r = await api.call('POST', '/api/v1/apply', `{"resources":[${'['.repeat(50_000)}${']'.repeat(50_000)}]}`);
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /nests deeper than 66 levels/);
});

test('a Secret is answered without its private key (get, list, apply answers), and a Gateway with the status statusOf computes', async (t) => {
  const api = await startApi(t, { statusOf: (r) => (r.kind === 'Gateway' ? { conditions: [{ type: 'Programmed', status: 'False', reason: 'Pending' }] } : undefined) });
  const pair = await selfSigned(['shop.example.com']);
  const doc = tlsSecretDoc('shop-cert', 'default', pair);
  const gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'edge' },
    spec: { gatewayClassName: 'trellis', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
  };
  assert.equal((await api.call('POST', '/api/v1/apply', { resources: [doc, gateway] })).status, 200);
  const key = doc.data['tls.key'];
  const one = await api.call('GET', '/api/v1/secrets/default/shop-cert');
  assert.equal(one.status, 200);
  assert.equal(one.body.data['tls.crt'], doc.data['tls.crt']);
  const list = await api.call('GET', '/api/v1/secrets');
  const put = await api.call('PUT', '/api/v1/secrets/default/shop-cert', doc);
  for (const body of [one.body, list.body, put.body]) assert.ok(!JSON.stringify(body).includes(key), 'the key was answered');
  assert.ok(JSON.stringify((await api.store.list('Secret')).items).includes(key), 'the store keeps the key');
  const g = await api.call('GET', '/api/v1/gateways/default/edge');
  assert.deepEqual(g.body.status, { conditions: [{ type: 'Programmed', status: 'False', reason: 'Pending' }] });
});
