// The request target layer: an absolute-form target becomes origin-form with its authority
// (an HTTP proxy listener refuses other non-origin forms: 400), then the path is normalized under the
// listener's settings; a path that cannot be is a 400, or a 307 to the unescaped path (never
// for gRPC, which cannot follow it). Everything below sees the resulting path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PathNormalization } from '../config/runtime-config.js';
import { fakeRequest, NextRecorder, type FakeRequestOptions } from '../testing/http-fakes.js';
import { requestTargetLayer } from './request-target-layer.js';

const FULL: PathNormalization = { normalizePath: true, mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_REDIRECT' };

function run(path: string, o: FakeRequestOptions = {}) {
  const next = new NextRecorder();
  const r = fakeRequest({ ...o, path });
  requestTargetLayer.request(r.ctx, next.handler);
  return { ...r, passed: next.calls.length === 1 };
}

test('an origin-form path without normalization settings is passed on as sent', () => {
  const { ctx, passed } = run('/a//b/../c?x=/../');
  assert.equal(passed, true);
  assert.equal(ctx.path, '/a//b/../c?x=/../');
  assert.equal(ctx.authority, 'app.test');
  assert.equal(ctx.authorityOverride, false);
});

test('an absolute-form target becomes origin-form; its authority replaces the Host', () => {
  const { ctx, passed } = run('http://User@Shop.Test:8080/items?id=1', { authority: 'proxy.local' });
  assert.equal(passed, true);
  assert.equal(ctx.path, '/items?id=1');
  assert.equal(ctx.authority, 'shop.test:8080');
  assert.equal(ctx.authorityOverride, true);
  assert.equal(run('http://shop.test?q', { listener: { httpProxy: true } }).ctx.path, '/?q');
});

test('an HTTP proxy listener refuses a target that is neither absolute http:// nor origin-form with 400', () => {
  for (const target of ['*', 'https://shop.test/', 'shop.test:443']) {
    const { passed, down, ctx } = run(target, { listener: { httpProxy: true } });
    assert.equal(passed, false, target);
    assert.equal(down.response?.status, 400);
    assert.equal(down.response?.headers['x-trellis-error'], 'BAD_REQUEST');
    assert.equal(ctx.error?.message, `bad request: an HTTP proxy listener needs an absolute http:// request target, got ${JSON.stringify(target)}`);
  }
  assert.equal(run('/items', { listener: { httpProxy: true } }).passed, true, 'origin-form is forwarded as it is');
  assert.equal(run('*', { method: 'OPTIONS' }).passed, true, 'other listeners pass other forms on (OPTIONS *)');
});

test('the path is normalized (dot segments, merged slashes, unreserved escapes), the query never', () => {
  const listener = { pathNormalization: FULL };
  assert.equal(run('/a/./b/../c//d?q=/../%41', { listener }).ctx.path, '/a/c/d?q=/../%41');
  assert.equal(run('/%7euser/%41%2a', { listener }).ctx.path, '/~user/A%2A');
  assert.equal(run('/../../etc', { listener }).ctx.path, '/etc', 'nothing above the root');
  assert.equal(run('/api/items', { listener }).ctx.path, '/api/items');
});

test('an absolute-form target is normalized too', () => {
  const { ctx } = run('http://shop.test/a/../admin', { listener: { pathNormalization: FULL } });
  assert.equal(ctx.path, '/admin');
});

test('a path that cannot be normalized safely is a 400 and goes no further', () => {
  const listener = { pathNormalization: FULL };
  for (const path of ['/a%00b', '/a%zzb']) {
    const { passed, down } = run(path, { listener });
    assert.equal(passed, false, path);
    assert.equal(down.response?.status, 400);
    assert.equal(down.response?.headers['x-trellis-error'], 'BAD_REQUEST');
  }
  const rejectSlashes = run('/a%2Fb', { listener: { pathNormalization: { ...FULL, escapedSlashes: 'REJECT_REQUEST' } } });
  assert.equal(rejectSlashes.down.response?.status, 400);
  assert.match(rejectSlashes.down.response?.body ?? '', /escaped slash \(%2F\)/);
});

test('escaped slashes under UNESCAPE_AND_REDIRECT: a 307 to the unescaped path, but 400 for gRPC', () => {
  const listener = { pathNormalization: FULL };
  const plain = run('/a%2Fb?x=1', { listener });
  assert.equal(plain.passed, false);
  assert.deepEqual(plain.down.responses, [{ status: 307, headers: { location: '/a/b?x=1' }, body: '' }]);
  assert.equal(plain.ctx.error, undefined, 'a redirect, not an error');
  const grpc = run('/pkg.Svc%2FMethod', { listener, protocol: 'h2', headers: { 'content-type': 'application/grpc' } });
  assert.equal(grpc.passed, false);
  assert.equal(grpc.ctx.error?.code, 'BAD_REQUEST');
  assert.equal(grpc.down.response?.headers['grpc-status'], '13', 'INTERNAL, as Envoy answers');
});

test('UNESCAPE_AND_FORWARD passes the unescaped path on', () => {
  const { passed, ctx } = run('/a%2Fb%5Cc', { listener: { pathNormalization: { ...FULL, escapedSlashes: 'UNESCAPE_AND_FORWARD' } } });
  assert.equal(passed, true);
  assert.equal(ctx.path, '/a/b/c');
});
