// The redirect layer: a redirect route answers itself with its status and a Location that keeps
// what the redirect does not replace; other routes pass on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RedirectConfig } from '../config/route-filter-config.js';
import { compiledRoute, fakeRequest, NextRecorder } from '../testing/http-fakes.js';
import { redirectLayer, redirectLocation } from './redirect-layer.js';

const at = (authority: string, path: string) => ({ authority, path });
const r = (over: Partial<RedirectConfig> = {}): RedirectConfig => ({ status: 302, stripQuery: false, ...over });

test('a route without a redirect passes on and answers nothing', () => {
  const next = new NextRecorder();
  const { ctx, down } = fakeRequest({ route: compiledRoute() });
  redirectLayer.request(ctx, next.handler);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(down.responses.length, 0);
});

test('a redirect route answers with its status and Location, not passed on, not an error', () => {
  const next = new NextRecorder();
  const { ctx, down } = fakeRequest({
    authority: 'shop.test:8080',
    path: '/old/a?q=1',
    route: compiledRoute({ redirect: r({ status: 301, prefix: { from: '/old', to: '/new' } }) }),
  });
  redirectLayer.request(ctx, next.handler);
  assert.equal(next.calls.length, 0);
  assert.deepEqual(down.responses, [{ status: 301, headers: { location: 'http://shop.test:8080/new/a?q=1' }, body: '' }]);
  assert.equal(ctx.status, 301);
  assert.equal(ctx.error, undefined);
});

test('the Location keeps host, port, path and query unless replaced', () => {
  assert.equal(redirectLocation(at('shop.test', '/a?q'), r()), 'http://shop.test/a?q');
  assert.equal(redirectLocation(at('shop.test:8080', '/a?q'), r({ host: 'new.test' })), 'http://new.test:8080/a?q');
  assert.equal(redirectLocation(at('shop.test:8080', '/a?q'), r({ port: 9090 })), 'http://shop.test:9090/a?q');
  assert.equal(redirectLocation(at('shop.test', '/a?q'), r({ path: '/b', stripQuery: true })), 'http://shop.test/b');
  assert.equal(redirectLocation(at('[fd00::1]:8080', '/a'), r()), 'http://[fd00::1]:8080/a', 'IPv6 host keeps its brackets');
  assert.equal(redirectLocation(at('[fd00::1]', '/a'), r({ port: 81 })), 'http://[fd00::1]:81/a');
});

test('a scheme change drops the port (the new default applies); a default port is never written', () => {
  assert.equal(redirectLocation(at('shop.test:8080', '/a'), r({ scheme: 'https' })), 'https://shop.test/a');
  assert.equal(redirectLocation(at('shop.test', '/a'), r({ scheme: 'https', port: 443 })), 'https://shop.test/a');
  assert.equal(redirectLocation(at('shop.test', '/a'), r({ scheme: 'https', port: 8443 })), 'https://shop.test:8443/a');
  assert.equal(redirectLocation(at('shop.test:80', '/a'), r()), 'http://shop.test/a');
});
