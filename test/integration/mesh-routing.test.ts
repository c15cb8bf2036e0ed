// Gateway API routing across real sidecars: header and path matches, header modifiers, URL
// rewrite, and request mirroring (the mirror gets copies; the caller sees only the primary).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, get, httpService, startControlPlane, startWorkload } from './harness.js';

test('header and path routing, header modifier, rewrite and mirroring through HTTPRoute filters', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  const ref = (name: string) => ({ name, port: 8080 });
  await applyResources(cp, [
    httpService('echo'),
    httpService('echo-v1', { app: 'echo', version: 'v1' }),
    httpService('echo-v2', { app: 'echo', version: 'v2' }),
    httpService('shadow'),
    httpService('client'),
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'echo', namespace: 'default' },
      spec: {
        parentRefs: [{ kind: 'Service', name: 'echo', port: 8080 }],
        rules: [
          { matches: [{ headers: [{ name: 'x-canary', value: 'true' }] }], backendRefs: [ref('echo-v2')] },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
            backendRefs: [ref('echo-v1')],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-route', value: 'api' }], remove: ['x-secret'] } },
              { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-mesh', value: 'trellis' }] } },
              { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } },
              { type: 'RequestMirror', requestMirror: { backendRef: ref('shadow') } },
            ],
          },
          {
            matches: [{ path: { type: 'Exact', value: '/old' } }],
            filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }],
          },
          { backendRefs: [ref('echo-v1')] },
        ],
      },
    },
  ]);
  await startWorkload(t, cp, { service: 'echo', version: 'v1' });
  await startWorkload(t, cp, { service: 'echo', version: 'v2' });
  const shadow = await startWorkload(t, cp, { service: 'shadow', app: [process.execPath, path.join(FIXTURES, 'faulty-app.mjs')], env: { FAIL_RATE: '1' } });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['echo:8080'] });
  const base = `http://127.0.0.1:${client.upstreamPorts['echo:8080']}`;
  await waitFor(async () => (await get(`${base}/`)).body?.version === 'v1', 'echo reachable', 15_000);

  for (let i = 0; i < 20; i++) assert.equal((await get(`${base}/x`, { headers: { 'x-canary': 'true' } })).body.version, 'v2');
  for (let i = 0; i < 20; i++) assert.equal((await get(`${base}/x`)).body.version, 'v1');

  const shadowStats = async () => (await get(`http://127.0.0.1:${shadow.appPort}/__stats`)).body as { requests: number };
  const before = (await shadowStats()).requests;
  for (let i = 0; i < 50; i++) {
    const r = await get(`${base}/api/users/${i}`, { headers: { 'x-secret': 's3cret' } });
    assert.equal(r.status, 200, 'the caller sees the primary, not the failing mirror');
    assert.equal(r.body.version, 'v1');
    assert.equal(r.body.path, `/users/${i}`, 'the /api prefix was replaced by /');
    assert.equal(r.body.headers['x-route'], 'api');
    assert.equal(r.body.headers['x-secret'], undefined);
    assert.equal(r.headers.get('x-mesh'), 'trellis');
  }
  await waitFor(async () => (await shadowStats()).requests - before === 50, 'the mirror received a copy of each /api request', 10_000);

  const moved = await fetch(`${base}/old?x=1`, { redirect: 'manual' });
  assert.equal(moved.status, 301);
  assert.match(moved.headers.get('location') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/new\?x=1$/);
});
