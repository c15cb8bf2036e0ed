// The rewrite layer: the route's prefix or regex path rewrite (query kept) and host rewrite
// (which must replace the Host header upstream); routes without one leave the request as it is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RewriteConfig } from '../config/route-filter-config.js';
import { safeRegex } from '../testing/config-builder.js';
import { compiledRoute, fakeRequest, NextRecorder } from '../testing/http-fakes.js';
import { rewriteLayer } from './rewrite-layer.js';

function rewrite(rw: RewriteConfig | undefined, path: string, authority = 'shop.test') {
  const next = new NextRecorder();
  const { ctx } = fakeRequest({ path, authority, route: compiledRoute(rw === undefined ? {} : { rewrite: rw }) });
  rewriteLayer.request(ctx, next.handler);
  assert.deepEqual(next.calls, [ctx], 'always passed on');
  return { path: ctx.path, authority: ctx.authority, override: ctx.authorityOverride };
}

test('a route without a rewrite changes nothing', () => {
  assert.deepEqual(rewrite(undefined, '/api/items?x=1'), { path: '/api/items?x=1', authority: 'shop.test', override: false });
});

test('the matched prefix is replaced on path-element boundaries, the query kept', () => {
  const rw = { prefix: { from: '/api', to: '/v2' } };
  assert.equal(rewrite(rw, '/api/items?x=1').path, '/v2/items?x=1');
  assert.equal(rewrite(rw, '/api').path, '/v2');
  assert.equal(rewrite({ prefix: { from: '/api', to: '/' } }, '/api/items').path, '/items');
  assert.equal(rewrite(rw, '/other/api').path, '/other/api', 'another prefix is left alone');
});

test('a regex rewrite replaces every match in the path only, with groups', () => {
  const rw = { regex: { regex: safeRegex('/users/([0-9]+)'), substitution: '/u/$1' } };
  assert.equal(rewrite(rw, '/users/42/orders?users/7=1').path, '/u/42/orders?users/7=1');
  assert.equal(rewrite({ regex: { regex: safeRegex('a'), substitution: 'b' } }, '/aXa?a').path, '/bXb?a');
});

test('a host rewrite replaces the authority and marks it to replace the Host header', () => {
  assert.deepEqual(rewrite({ host: 'internal.test:8080' }, '/x'), { path: '/x', authority: 'internal.test:8080', override: true });
  assert.deepEqual(rewrite({ prefix: { from: '/a', to: '/b' }, host: 'h' }, '/a/c'), { path: '/b/c', authority: 'h', override: true });
});
