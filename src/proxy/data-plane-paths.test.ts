// Request paths through a DataPlane: normalized once before routing (and authorization) under
// the listener's HCM path settings, and forwarded as normalized; refused (400) or redirected
// (307) where the settings say; left as sent on a listener without them.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { HttpListenerConfig, PathNormalization } from './config/runtime-config.js';
import { cluster, endpoint, httpListener, routeTable, rule, runtimeConfig, virtualHost } from './testing/config-builder.js';
import { request, startDataPlane, startEchoServer, type Echo } from './testing/test-servers.js';

const MERGE_SLASHES: PathNormalization = { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' };

/** Routes `/internal` to cluster b and everything else to a; answers which one served, and the path it got. */
async function plane(t: TestContext, listener: Partial<HttpListenerConfig>) {
  const servers = await Promise.all(['a', 'b'].map((n) => startEchoServer(t, n)));
  const { plane } = startDataPlane(t);
  const result = await plane.apply(
    runtimeConfig({
      listeners: [httpListener('out', 0, listener)],
      routes: [routeTable('routes', [virtualHost('svc', ['*'], [rule('internal', 'b', { path: { type: 'segment-prefix', value: '/internal' } }), rule('rest', 'a')])])],
      clusters: servers.map((s, i) => cluster('ab'[i]!, [endpoint(s.port)])),
    }),
  );
  assert.ok(result.ok, JSON.stringify(result.failed));
  const port = plane.port('out')!;
  return async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(port, { path, headers });
    const echo = res.status === 200 ? (JSON.parse(res.body) as Echo) : undefined;
    return { status: res.status, served: echo?.name, path: echo?.path, location: res.headers.location, error: res.headers['x-trellis-error'], body: res.body };
  };
}

test('every spelling of /internal is routed as /internal and forwarded normalized', { timeout: 10_000 }, async (t) => {
  const send = await plane(t, { pathNormalization: MERGE_SLASHES });
  for (const p of ['//internal/a', '/./internal/a', '/x/../internal/a', '/.%2e/internal/a', '/%69nternal/a', '/\\internal/a', 'http://svc/x/../internal/a']) {
    const r = await send(p);
    assert.deepEqual([r.status, r.served, r.path], [200, 'b', '/internal/a'], p);
  }
  const q = await send('/a//b?x=//..%2e');
  assert.deepEqual([q.served, q.path], ['a', '/a/b?x=//..%2e'], 'the query is untouched');
});

test('a path that cannot be normalized safely is refused with 400 and the reason', { timeout: 10_000 }, async (t) => {
  const send = await plane(t, { pathNormalization: MERGE_SLASHES });
  const r = await send('/a%zz');
  assert.equal(r.status, 400);
  assert.equal(r.error, 'BAD_REQUEST');
  assert.match(r.body, /cannot be normalized safely: "%zz" at offset 2 is not a valid percent-encoding/);
});

test('escaped slashes: redirected under UNESCAPE_AND_REDIRECT (gRPC refused), refused under REJECT_REQUEST', { timeout: 10_000 }, async (t) => {
  const redirect = await plane(t, { pathNormalization: { ...MERGE_SLASHES, escapedSlashes: 'UNESCAPE_AND_REDIRECT' } });
  const r = await redirect('/%2Finternal%2fa?x=1');
  assert.deepEqual([r.status, r.location], [307, '/internal/a?x=1']);
  const g = await redirect('/%2Finternal%2fa', { 'content-type': 'application/grpc' });
  assert.equal(g.status, 400);
  assert.match(g.body, /gRPC call cannot follow the redirect/);
  const reject = await plane(t, { pathNormalization: { ...MERGE_SLASHES, escapedSlashes: 'REJECT_REQUEST' } });
  assert.equal((await reject('/a%2Fb')).status, 400);
});

test('a listener without path settings forwards the path as sent', { timeout: 10_000 }, async (t) => {
  const send = await plane(t, {});
  const r = await send('//x/../a%41');
  assert.deepEqual([r.served, r.path], ['a', '//x/../a%41']);
});
