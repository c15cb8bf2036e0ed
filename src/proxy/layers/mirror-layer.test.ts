// The mirror layer: for each mirror of the route (drawn per request), a copy of a bodiless
// HTTP/1.x request goes to an endpoint of the mirror cluster with `-shadow` appended to its host;
// the caller's request goes on at once and is never changed; at most MAX_MIRRORS_IN_FLIGHT
// copies are outstanding. Copies travel over in-memory sockets here (the endpoint's own dial,
// as for mTLS endpoints), never the network.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../common/wait.js';
import type { HeaderMods } from '../config/route-filter-config.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { clusterState, compiledRoute, fakeRequest, NextRecorder, type FakeRequestOptions } from '../testing/http-fakes.js';
import { FakeSocket } from '../testing/tcp-fakes.js';
import { MAX_MIRRORS_IN_FLIGHT, mirrorLayer, mirrorStats } from './mirror-layer.js';

/** A fake socket without an idle timer of its own (the copy's 10 s timeout is not under test). */
class QuietSocket extends FakeSocket {
  override setTimeout(): this {
    return this;
  }
}

/** A mirror cluster of one endpoint whose dial hands out in-memory sockets (kept in `sockets`). */
function shadowCluster(): { cluster: ClusterState; sockets: QuietSocket[] } {
  const sockets: QuietSocket[] = [];
  const endpoint = { address: '10.2.0.1', port: 8080, key: '10.2.0.1:8080', active: 0, tls: { sans: [] }, dial: () => sockets[sockets.push(new QuietSocket()) - 1]!.asSocket() };
  return { cluster: clusterState('shadow', [endpoint as unknown as UpstreamEndpoint]), sockets };
}

function run(shadow: ClusterState, o: FakeRequestOptions & { perMillion?: number; requestHeaders?: HeaderMods } = {}) {
  const next = new NextRecorder();
  const route = compiledRoute(o.requestHeaders === undefined ? {} : { requestHeaders: o.requestHeaders }, [], [{ target: shadow, perMillion: o.perMillion ?? 1_000_000 }]);
  const r = fakeRequest({ ...o, route });
  mirrorLayer.request(r.ctx, next.handler);
  return { ...r, next };
}

/** After the test, ends every copy still open (the in-flight count is the module's, shared by the tests). */
function closeAll(t: TestContext, sockets: QuietSocket[]): void {
  t.after(async () => {
    const open = sockets.filter((s) => !s.closed);
    for (const s of open) s.destroy();
    await Promise.all(open.map((s) => once(s, 'close')));
  });
}

test('a route without mirrors copies nothing', () => {
  const sent = mirrorStats.sent;
  const next = new NextRecorder();
  const { ctx } = fakeRequest({ route: compiledRoute() });
  mirrorLayer.request(ctx, next.handler);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(mirrorStats.sent, sent);
});

test("a request with a body, or over HTTP/2, is not copied; the caller's request goes on at once", (t) => {
  const { cluster } = shadowCluster();
  const pick = t.mock.method(cluster.balancer, 'pick');
  const sent = mirrorStats.sent;
  for (const o of [{ method: 'POST', hasBody: true }, { protocol: 'h2' as const }]) {
    const { ctx, next } = run(cluster, o);
    assert.deepEqual(next.calls, [ctx]);
  }
  assert.equal(pick.mock.callCount(), 0, 'no mirror endpoint even looked for');
  assert.equal(mirrorStats.sent, sent);
});

test("each mirror's share is drawn per request", (t) => {
  const { cluster } = shadowCluster();
  const pick = t.mock.method(cluster.balancer, 'pick', () => undefined);
  let draw = 0;
  t.mock.method(Math, 'random', () => draw);
  draw = 0.1;
  run(cluster, { perMillion: 100_000 });
  assert.equal(pick.mock.callCount(), 0, '10 % of requests: not this one');
  draw = 0.0999;
  run(cluster, { perMillion: 100_000 });
  assert.equal(pick.mock.callCount(), 1);
});

test('a mirror cluster without endpoints gets no copy', () => {
  const sent = mirrorStats.sent;
  const { ctx, next } = run(clusterState('empty'));
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(mirrorStats.sent, sent);
});

test("the copy goes to the shadow host without hop-by-hop headers, with the route's header changes; the caller's request is untouched", async (t) => {
  const { cluster, sockets } = shadowCluster();
  closeAll(t, sockets);
  const sent = mirrorStats.sent;
  const { ctx, next, down } = run(cluster, {
    method: 'GET',
    path: '/items?x=1',
    authority: 'app.test',
    headers: { Host: 'app.test', Connection: 'keep-alive', 'Keep-Alive': 'timeout=5', 'X-User': 'alice', 'X-Drop': 'me' },
    requestHeaders: { remove: ['x-drop'], set: [['x-env', 'shadow-test']], add: [] },
  });
  assert.deepEqual(next.calls, [ctx], 'passed on at once');
  assert.equal(mirrorStats.sent, sent + 1);
  assert.deepEqual([ctx.path, ctx.authority, ctx.authorityOverride, ctx.upstreamHeaders], ['/items?x=1', 'app.test', false, undefined]);
  assert.deepEqual(down.rawHeaders, ['Host', 'app.test', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'X-User', 'alice', 'X-Drop', 'me']);
  await waitFor(async () => sockets[0]?.text().endsWith('\r\n\r\n') === true, "the copy's head", 5000, 1);
  const [requestLine, ...lines] = sockets[0]!.text().trimEnd().split('\r\n');
  assert.equal(requestLine, 'GET /items?x=1 HTTP/1.1');
  assert.deepEqual(
    lines.filter((l) => !/^connection:/i.test(l)),
    ['host: app.test-shadow', 'X-User: alice', 'x-env: shadow-test'],
  );
  // The copy's answer is read and thrown away; the caller never hears of it.
  const failed = mirrorStats.failed;
  sockets[0]!.receive('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nboom');
  await waitFor(async () => sockets[0]!.writableEnded, 'the copy to be read and its connection ended', 5000, 1);
  assert.equal(mirrorStats.failed, failed, 'an answer, even a 500, is not a failure of the copy');
  assert.equal(down.responses.length, 0);
});

test("the copy carries the proxy's own source and trace headers, as the forwarded request does, not the app's", async (t) => {
  const { cluster, sockets } = shadowCluster();
  closeAll(t, sockets);
  const next = new NextRecorder();
  const { ctx } = fakeRequest({
    route: compiledRoute({}, [], [{ target: cluster, perMillion: 1_000_000 }]),
    headers: { 'X-Trellis-Source': 'admin.kube-system/forged', traceparent: '00-11111111111111111111111111111111-2222222222222222-01', 'x-user': 'alice' },
  });
  // What the source and trace layers above set for the next hop.
  ctx.upstreamHeaders = ['x-trellis-source', 'web.default/web-v1', 'traceparent', '00-11111111111111111111111111111111-3333333333333333-01'];
  mirrorLayer.request(ctx, next.handler);
  await waitFor(async () => sockets[0]?.text().endsWith('\r\n\r\n') === true, "the copy's head", 5000, 1);
  const lines = sockets[0]!
    .text()
    .trimEnd()
    .split('\r\n')
    .slice(1)
    .filter((l) => !/^connection:/i.test(l));
  assert.deepEqual(lines, [
    'host: app.test-shadow',
    'x-user: alice',
    'x-trellis-source: web.default/web-v1',
    'traceparent: 00-11111111111111111111111111111111-3333333333333333-01',
  ]);
});

test(`at most ${MAX_MIRRORS_IN_FLIGHT} copies are outstanding: more are dropped, not queued`, async (t) => {
  const { cluster, sockets } = shadowCluster();
  closeAll(t, sockets);
  const { sent, dropped } = mirrorStats;
  for (let i = 0; i < MAX_MIRRORS_IN_FLIGHT; i++) run(cluster);
  assert.equal(mirrorStats.sent, sent + MAX_MIRRORS_IN_FLIGHT);
  const { ctx, next } = run(cluster);
  assert.deepEqual(next.calls, [ctx], 'the caller goes on regardless');
  assert.equal(mirrorStats.dropped, dropped + 1);
  assert.equal(sockets.length, MAX_MIRRORS_IN_FLIGHT, 'no connection for the dropped copy');

  // A copy that fails is counted and frees its place; so does one that is answered.
  const failed = mirrorStats.failed;
  sockets[0]!.destroy(new Error('connection reset'));
  await waitFor(async () => mirrorStats.failed === failed + 1, 'the failure counted', 5000, 1);
  run(cluster);
  assert.deepEqual([mirrorStats.sent, mirrorStats.dropped], [sent + MAX_MIRRORS_IN_FLIGHT + 1, dropped + 1]);
  run(cluster);
  assert.equal(mirrorStats.dropped, dropped + 2, 'full again');
  await waitFor(async () => sockets[1]!.text().endsWith('\r\n\r\n'), "a copy's head", 5000, 1);
  sockets[1]!.receive('HTTP/1.1 204 No Content\r\n\r\n');
  await waitFor(async () => sockets[1]!.writableEnded, 'the answered copy to be over', 5000, 1);
  run(cluster);
  assert.deepEqual([mirrorStats.sent, mirrorStats.dropped, mirrorStats.failed], [sent + MAX_MIRRORS_IN_FLIGHT + 2, dropped + 2, failed + 1]);
});
