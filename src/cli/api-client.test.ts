// The REST client: where it connects, and one clear line for each way a call can fail.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { freePort } from '../common/free-port.js';
import { controlPlaneUrl, createApiClient, DEFAULT_CONTROL_PLANE } from './api-client.js';

async function serve(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('the control plane URL comes from the flag, else the environment, else the default', () => {
  assert.equal(controlPlaneUrl('http://a:1/', { TRELLIS_CONTROL_PLANE: 'http://b:2' }), 'http://a:1');
  assert.equal(controlPlaneUrl(undefined, { TRELLIS_CONTROL_PLANE: 'http://b:2' }), 'http://b:2');
  assert.equal(controlPlaneUrl(undefined, {}), DEFAULT_CONTROL_PLANE);
  assert.equal(DEFAULT_CONTROL_PLANE, 'https://127.0.0.1:15000');
});

test('a refused connection is one line naming the URL and suggesting to start the control plane', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const r = await createApiClient(url).list('Service');
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'CONNECTION_FAILED');
  assert.equal(r.error.message, `cannot reach the control plane at ${url}: connection refused (is \`trellis control-plane\` running?)`);
});

test('no answer within the timeout is a connection failure, not a hang', async (t) => {
  const url = await serve(t, () => {
    /* never answers */
  });
  const r = await createApiClient(url, { timeoutMs: 200 }).proxies();
  assert.ok(!r.ok);
  assert.equal(r.error.message, `cannot reach the control plane at ${url}: no answer in time`);
});

test('an answer that is not JSON says the URL may not be the REST API', async (t) => {
  const url = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>hello</html>');
  });
  const r = await createApiClient(url).get({ kind: 'Service', namespace: 'default', name: 'a' });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'BAD_ANSWER');
  assert.match(r.error.message, /answered GET \/api\/v1\/services\/default\/a with HTTP 200 and a body that is not JSON/);
});

test("an error answer keeps the server's code, message, status and problems", async (t) => {
  const problems = [{ resource: 'Service default/a', path: 'spec.ports', message: 'required' }];
  const url = await serve(t, (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'VALIDATION_FAILED', message: '1 problem', problems } }));
  });
  const r = await createApiClient(url).apply([{}]);
  assert.deepEqual(r, { ok: false, error: { code: 'VALIDATION_FAILED', status: 400, message: '1 problem', problems } });
});

test('requests go to the API paths, cluster-scoped kinds without a namespace, names percent-encoded', async (t) => {
  const seen: string[] = [];
  const url = await serve(t, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"items":[]}');
  });
  const c = createApiClient(url + '/');
  await c.list('HTTPRoute', 'shop');
  await c.list('Service');
  await c.get({ kind: 'MeshConfig', namespace: 'ignored', name: 'default' });
  await c.delete({ kind: 'Service', namespace: 'default', name: 'a b' });
  await c.apply([], { dryRun: true });
  assert.deepEqual(seen, [
    'GET /api/v1/httproutes?namespace=shop',
    'GET /api/v1/services',
    'GET /api/v1/meshconfigs/default',
    'DELETE /api/v1/services/default/a%20b',
    'POST /api/v1/apply?dryRun=true',
  ]);
});
