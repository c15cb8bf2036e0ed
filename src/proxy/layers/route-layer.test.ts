// The route layer: the first matching rule of the virtual host for the request's authority
// becomes ctx.route; no match (or no route table) is a 404 NO_ROUTE, not passed down.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router } from '../routing/router.js';
import { routeTable, rule, virtualHost } from '../testing/config-builder.js';
import { clusterState, fakeRequest, NextRecorder } from '../testing/http-fakes.js';
import { routeLayer } from './route-layer.js';

const app = clusterState('app');
const admin = clusterState('admin');
const router = new Router(
  routeTable('routes', [
    virtualHost('shop', ['shop.test'], [rule('admin', 'admin', { path: { type: 'prefix', value: '/admin' } }), rule('rest', 'app', { path: { type: 'prefix', value: '/api' } })]),
  ]),
  (name) => (name === 'admin' ? admin : app),
);

test('the first matching rule of the host becomes the route and the request goes on', () => {
  const next = new NextRecorder();
  const { ctx, down } = fakeRequest({ router, authority: 'shop.test', path: '/admin/users?x=1' });
  routeLayer.request(ctx, next.handler);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(ctx.route?.name, 'shop/admin');
  assert.equal(ctx.route.backends.pick(), admin);
  assert.equal(down.responses.length, 0);
  const other = fakeRequest({ router, authority: 'SHOP.test:8080', path: '/api/items' });
  routeLayer.request(other.ctx, next.handler);
  assert.equal(other.ctx.route?.name, 'shop/rest', 'host matched without case and port');
});

test('a path no rule matches is a 404 NO_ROUTE naming host and path', () => {
  const next = new NextRecorder();
  const { ctx, down } = fakeRequest({ router, authority: 'shop.test', path: '/other' });
  routeLayer.request(ctx, next.handler);
  assert.equal(next.calls.length, 0);
  assert.equal(ctx.route, undefined);
  assert.equal(ctx.status, 404);
  assert.equal(ctx.error?.code, 'NO_ROUTE');
  assert.equal(down.response?.status, 404);
  assert.equal(down.response?.headers['x-trellis-error'], 'NO_ROUTE');
  assert.equal(down.response?.body, 'no route for host shop.test path /other\n');
});

test('a host no virtual host claims, and a listener without a route table, are 404s', () => {
  for (const o of [{ router, authority: 'elsewhere.test' }, { authority: 'shop.test' }]) {
    const next = new NextRecorder();
    const { ctx, down } = fakeRequest({ ...o, path: '/api' });
    routeLayer.request(ctx, next.handler);
    assert.equal(next.calls.length, 0);
    assert.equal(down.response?.status, 404);
    assert.equal(ctx.error?.code, 'NO_ROUTE');
  }
});
