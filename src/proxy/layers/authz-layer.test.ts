// The authz layer: a listener's RBAC rules decide on the caller's SPIFFE ID, method, path and
// headers; every decision is counted with the deciding policy; a denied request is a 403
// FORBIDDEN naming the policy and goes no further. Listeners without rules count nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzRules } from '../config/authz-config.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { fakeRequest, NextRecorder, testTelemetry, type FakeRequestOptions } from '../testing/http-fakes.js';
import { authzLayer } from './authz-layer.js';

const SHOP = 'spiffe://trellis.local/ns/default/sa/shop';
const ADMIN = 'spiffe://trellis.local/ns/ops/sa/admin';

/** Only the shop may call, and only GET under /api; anybody may call /healthz. */
const rules: readonly AuthzRules[] = [
  { action: 'deny', policies: [{ name: 'default/no-admin-path/rules[0]', principals: [{ any: true }], permissions: [{ path: { prefix: '/admin' } }] }] },
  {
    action: 'allow',
    policies: [
      {
        name: 'default/shop-reads/rules[0]',
        principals: [{ authenticated: { exact: SHOP } }],
        permissions: [{ and: [{ header: { name: ':method', match: { exact: 'GET' } } }, { path: { prefix: '/api/' } }] }],
      },
      { name: 'default/health/rules[0]', principals: [{ any: true }], permissions: [{ path: { exact: '/healthz' } }] },
    ],
  },
];

function run(o: FakeRequestOptions, metrics = new ProxyMetrics()) {
  const next = new NextRecorder();
  const r = fakeRequest({ listener: { direction: 'inbound', name: 'inbound-http', authz: rules }, ...o });
  authzLayer(metrics, testTelemetry()).request(r.ctx, next.handler);
  return { ...r, passed: next.calls.length === 1, metrics };
}

const decisions = async (metrics: ProxyMetrics) => (await metrics.text()).split('\n').filter((l) => l.startsWith('trellis_authz_decisions_total{'));

test('a listener without rules passes every request and counts no decision', async () => {
  const { passed, metrics } = run({ listener: { direction: 'inbound' } });
  assert.equal(passed, true);
  assert.deepEqual(await decisions(metrics), []);
});

test('an allowed request passes on, counted as allow with the allowing policy', async () => {
  const { passed, down, metrics } = run({ peerIdentity: SHOP, path: '/api/items?x=1' });
  assert.equal(passed, true);
  assert.equal(down.responses.length, 0);
  assert.deepEqual(await decisions(metrics), [
    'trellis_authz_decisions_total{direction="inbound",listener="inbound-http",decision="allow",policy="default/shop-reads/rules[0]"} 1',
  ]);
});

test('a denied request is a 403 FORBIDDEN naming the deciding policy, counted as deny', async () => {
  const metrics = new ProxyMetrics();
  const denied = run({ peerIdentity: SHOP, path: '/admin/users' }, metrics);
  assert.equal(denied.passed, false);
  assert.equal(denied.down.response?.status, 403);
  assert.equal(denied.down.response?.headers['x-trellis-error'], 'FORBIDDEN');
  assert.equal(denied.down.response?.body, 'forbidden: denied by policy default/no-admin-path/rules[0]\n');
  run({ peerIdentity: SHOP, path: '/admin/x' }, metrics);
  assert.deepEqual(await decisions(metrics), [
    'trellis_authz_decisions_total{direction="inbound",listener="inbound-http",decision="deny",policy="default/no-admin-path/rules[0]"} 2',
  ]);
});

test('the method is matched as the :method pseudo-header, the caller by its SPIFFE ID', async () => {
  const metrics = new ProxyMetrics();
  assert.equal(run({ peerIdentity: SHOP, method: 'POST', path: '/api/items' }, metrics).passed, false, 'POST is not allowed');
  assert.equal(run({ peerIdentity: ADMIN, path: '/api/items' }, metrics).passed, false, 'another identity');
  const plaintext = run({ path: '/api/items' }, metrics);
  assert.equal(plaintext.passed, false, 'no identity at all');
  assert.equal(plaintext.down.response?.body, 'forbidden: denied: no ALLOW policy matches\n');
  assert.equal(run({ path: '/healthz' }, metrics).passed, true);
  assert.deepEqual(await decisions(metrics), [
    'trellis_authz_decisions_total{direction="inbound",listener="inbound-http",decision="deny",policy=""} 3',
    'trellis_authz_decisions_total{direction="inbound",listener="inbound-http",decision="allow",policy="default/health/rules[0]"} 1',
  ]);
});

test('the path judged is the one the layers above left (query ignored by path rules)', () => {
  assert.equal(run({ peerIdentity: SHOP, path: '/api/x?/admin' }).passed, true);
  assert.equal(run({ path: '/healthz?verbose=1' }).passed, true);
});
