// The mirror layer: for each mirror of the route (drawn per request), a copy of the request,
// HTTP/1.x or HTTP/2, with its body when it has one (kept up to 64 KiB), goes to an endpoint of the
// mirror cluster with `-shadow` appended to its host, over that endpoint's pooled connections;
// the caller's request goes on at once and is never changed; copies and copied bytes in flight
// are bounded; every outcome is counted. HTTP/1.1 copies travel over in-memory sockets (the
// endpoint's own dial, as for mTLS endpoints), HTTP/2 copies over a fake session: never the network.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type http2 from 'node:http2';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../common/wait.js';
import type { HeaderMods } from '../config/route-filter-config.js';
import type { ClusterConfig } from '../config/runtime-config.js';
import type { ClusterState } from '../data-plane-snapshot.js';
import { MAX_REPLAY_BYTES } from '../http/body-replay.js';
import { H2Downstream } from '../http/downstream.js';
import { MIRROR_TIMEOUT_MS } from '../http/mirror-copy.js';
import type { MirrorOutcome } from '../metrics/cluster-events.js';
import type { UpstreamTlsTarget } from '../pool/mesh-tls.js';
import { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { clusterState, compiledRoute, fakeRequest, NextRecorder, type FakeRequestOptions } from '../testing/http-fakes.js';
import { FakeSocket } from '../testing/tcp-fakes.js';
import { MAX_MIRROR_BYTES_IN_FLIGHT, MAX_MIRRORS_IN_FLIGHT, mirrorLayer, mirrorsInFlight } from './mirror-layer.js';

/** An endpoint behind mTLS whose dial hands out in-memory sockets (kept in `sockets`), with its real pools. */
class FakeDialEndpoint extends UpstreamEndpoint {
  readonly sockets: FakeSocket[] = [];
  constructor() {
    super('10.2.0.1', 8080, { sans: [] } as unknown as UpstreamTlsTarget);
  }
  override dial(): net.Socket {
    const socket = new FakeSocket(true);
    this.sockets.push(socket);
    setImmediate(() => socket.emit('secureConnect'));
    return socket.asSocket();
  }
}

function shadowCluster(over: Partial<ClusterConfig> = {}): { cluster: ClusterState; endpoint: FakeDialEndpoint; sockets: FakeSocket[] } {
  const endpoint = new FakeDialEndpoint();
  return { cluster: clusterState('shadow', [endpoint], over), endpoint, sockets: endpoint.sockets };
}

const outcomes = (cluster: ClusterState): Record<MirrorOutcome, number> => ({ ...cluster.runtime.events.mirrors });
const only = (o: Partial<Record<MirrorOutcome, number>>): Record<MirrorOutcome, number> => ({
  sent: 0,
  failed: 0,
  dropped_no_endpoint: 0,
  dropped_over_limit: 0,
  dropped_body_too_large: 0,
  dropped_body_incomplete: 0,
  ...o,
});

function run(shadow: ClusterState, o: FakeRequestOptions & { perMillion?: number; requestHeaders?: HeaderMods } = {}) {
  const next = new NextRecorder();
  const route = compiledRoute(o.requestHeaders === undefined ? {} : { requestHeaders: o.requestHeaders }, [], [{ target: shadow, perMillion: o.perMillion ?? 1_000_000 }]);
  const r = fakeRequest({ ...o, route });
  mirrorLayer.request(r.ctx, next.handler);
  return { ...r, next };
}

/** After the test, ends every copy still open and checks that none is left in flight (the count is the module's, shared by the tests). */
function closeAll(t: TestContext, endpoint: UpstreamEndpoint & { sockets: FakeSocket[] }): void {
  const before = mirrorsInFlight();
  t.after(async () => {
    const open = endpoint.sockets.filter((s) => !s.closed);
    for (const s of open) s.destroy();
    await Promise.all(open.map((s) => once(s, 'close')));
    await waitFor(async () => mirrorsInFlight().copies === before.copies, 'every copy to be over', 5000, 1);
  });
}

const headOf = async (socket: FakeSocket | undefined): Promise<string> => {
  await waitFor(async () => socket?.text().includes('\r\n\r\n') === true, "the copy's head", 5000, 1);
  return socket!.text();
};

test('a route without mirrors copies nothing', () => {
  const next = new NextRecorder();
  const { ctx } = fakeRequest({ route: compiledRoute() });
  mirrorLayer.request(ctx, next.handler);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(ctx.replay, undefined);
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

test('a mirror cluster without endpoints gets no copy, counted', () => {
  const empty = clusterState('empty');
  const { ctx, next } = run(empty);
  assert.deepEqual(next.calls, [ctx]);
  assert.deepEqual(outcomes(empty), only({ dropped_no_endpoint: 1 }));
});

test("an HTTP/1.1 copy goes to the shadow host without hop-by-hop headers, with the route's header changes, over the pool; the caller's request is untouched", async (t) => {
  const { cluster, endpoint, sockets } = shadowCluster();
  closeAll(t, endpoint);
  const { ctx, next, down } = run(cluster, {
    method: 'GET',
    path: '/items?x=1',
    authority: 'app.test',
    headers: { Host: 'app.test', Connection: 'keep-alive', 'Keep-Alive': 'timeout=5', 'X-User': 'alice', 'X-Drop': 'me' },
    requestHeaders: { remove: ['x-drop'], set: [['x-env', 'shadow-test']], add: [] },
  });
  assert.deepEqual(next.calls, [ctx], 'passed on at once');
  assert.deepEqual(outcomes(cluster), only({ sent: 1 }));
  assert.deepEqual([ctx.path, ctx.authority, ctx.authorityOverride, ctx.upstreamHeaders, ctx.replay], ['/items?x=1', 'app.test', false, undefined, undefined]);
  assert.deepEqual(down.rawHeaders, ['Host', 'app.test', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'X-User', 'alice', 'X-Drop', 'me']);
  const [requestLine, ...lines] = (await headOf(sockets[0])).trimEnd().split('\r\n');
  assert.equal(requestLine, 'GET /items?x=1 HTTP/1.1');
  assert.deepEqual(lines, ['host: app.test-shadow', 'X-User: alice', 'x-env: shadow-test']);

  // The copy's answer is read and thrown away (even a 500 is no failure of the copy); its connection goes back to the pool.
  sockets[0]!.receive('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nboom');
  await waitFor(async () => endpoint.h1.idleCount === 1, 'the connection back in the pool', 5000, 1);
  assert.equal(down.responses.length, 0);
  assert.deepEqual(outcomes(cluster), only({ sent: 1 }));

  // The next copy goes out on the same connection: no new dial (no new mTLS handshake).
  run(cluster, { path: '/again' });
  await waitFor(async () => sockets[0]!.text().includes('GET /again HTTP/1.1'), 'the second copy on the first connection', 5000, 1);
  assert.equal(sockets.length, 1);
  assert.equal(endpoint.h1.opened, 1);
});

test("the copy carries the proxy's own source and trace headers, as the forwarded request does, not the app's", async (t) => {
  const { cluster, endpoint, sockets } = shadowCluster();
  closeAll(t, endpoint);
  const next = new NextRecorder();
  const { ctx } = fakeRequest({
    route: compiledRoute({}, [], [{ target: cluster, perMillion: 1_000_000 }]),
    headers: { Host: 'app.test', 'X-Trellis-Source': 'admin.kube-system/forged', traceparent: '00-11111111111111111111111111111111-2222222222222222-01', 'x-user': 'alice' },
  });
  // What the source and trace layers above set for the next hop.
  ctx.upstreamHeaders = ['x-trellis-source', 'web.default/web-v1', 'traceparent', '00-11111111111111111111111111111111-3333333333333333-01'];
  mirrorLayer.request(ctx, next.handler);
  const lines = (await headOf(sockets[0])).trimEnd().split('\r\n').slice(1);
  assert.deepEqual(lines, [
    'host: app.test-shadow',
    'x-user: alice',
    'x-trellis-source: web.default/web-v1',
    'traceparent: 00-11111111111111111111111111111111-3333333333333333-01',
  ]);
});

test('a request with a body is copied once its body is whole (as the forwarder streams it), with the same body; a chunked one re-chunked', async (t) => {
  const { cluster, endpoint, sockets } = shadowCluster();
  closeAll(t, endpoint);
  const { ctx, next } = run(cluster, { method: 'POST', path: '/orders', hasBody: true, headers: { Host: 'app.test', 'Content-Length': '11' } });
  assert.deepEqual(next.calls, [ctx], 'the caller goes on at once');
  assert.equal(sockets.length, 0, 'nothing sent before the body is whole');
  assert.deepEqual(outcomes(cluster), only({}));
  // What the forwarder does as it streams the body upstream (the retry layer below keeps the same recording).
  const body = ctx.replay!;
  body.record(Buffer.from('hello '));
  body.record(Buffer.from('world'));
  body.end();
  assert.deepEqual(outcomes(cluster), only({ sent: 1 }));
  await waitFor(async () => sockets[0]?.text().endsWith('hello world') === true, 'the copy with its body', 5000, 1);
  assert.match(sockets[0]!.text(), /^POST \/orders HTTP\/1\.1\r\nhost: app\.test-shadow\r\nContent-Length: 11\r\n\r\nhello world$/);
  assert.ok(mirrorsInFlight().bytes >= 11, 'its bytes count while it is in flight');

  const chunked = run(cluster, { method: 'PUT', path: '/c', hasBody: true, headers: { Host: 'app.test', 'Transfer-Encoding': 'chunked' } });
  chunked.ctx.replay!.record(Buffer.from('part1-'));
  chunked.ctx.replay!.record(Buffer.from('part2'));
  chunked.ctx.replay!.end();
  await waitFor(async () => sockets[1]?.text().endsWith('0\r\n\r\n') === true, 'the chunked copy', 5000, 1);
  assert.equal(sockets[1]!.text(), 'PUT /c HTTP/1.1\r\nhost: app.test-shadow\r\ntransfer-encoding: chunked\r\n\r\n6\r\npart1-\r\n5\r\npart2\r\n0\r\n\r\n');
});

test(`a body over ${MAX_REPLAY_BYTES} bytes is not copied; nor is one the request never read whole: each counted, its place freed`, async (t) => {
  const { cluster, endpoint, sockets } = shadowCluster();
  closeAll(t, endpoint);
  const copies = mirrorsInFlight().copies;
  const large = run(cluster, { method: 'POST', hasBody: true, headers: { 'Content-Length': String(MAX_REPLAY_BYTES + 1) } });
  assert.equal(mirrorsInFlight().copies, copies + 1, 'a copy waiting for its body holds a place');
  large.ctx.replay!.record(Buffer.alloc(MAX_REPLAY_BYTES));
  assert.deepEqual(outcomes(cluster), only({}));
  large.ctx.replay!.record(Buffer.alloc(1));
  assert.deepEqual(outcomes(cluster), only({ dropped_body_too_large: 1 }), 'dropped as soon as the body is too large');
  assert.equal(mirrorsInFlight().copies, copies);
  large.ctx.replay!.end();
  large.ctx.downstreamClosed();

  // The upstream answered (or the proxy refused) before the body was read: the request is over without it.
  const cut = run(cluster, { method: 'POST', hasBody: true, headers: { 'Content-Length': '100' } });
  cut.ctx.replay!.record(Buffer.alloc(10));
  cut.ctx.downstreamClosed();
  assert.deepEqual(outcomes(cluster), only({ dropped_body_too_large: 1, dropped_body_incomplete: 1 }));
  assert.equal(mirrorsInFlight().copies, copies);
  assert.equal(sockets.length, 0);
});

test(`at most ${MAX_MIRRORS_IN_FLIGHT} copies are outstanding: more are dropped, not queued; a failure is counted and frees its place`, async (t) => {
  const { cluster, endpoint, sockets } = shadowCluster();
  closeAll(t, endpoint);
  const base = mirrorsInFlight().copies;
  for (let i = base; i < MAX_MIRRORS_IN_FLIGHT; i++) run(cluster);
  const sent = MAX_MIRRORS_IN_FLIGHT - base;
  assert.deepEqual(outcomes(cluster), only({ sent }));
  const { ctx, next } = run(cluster);
  assert.deepEqual(next.calls, [ctx], 'the caller goes on regardless');
  assert.deepEqual(outcomes(cluster), only({ sent, dropped_over_limit: 1 }));
  assert.equal(sockets.length, sent, 'one pooled connection per copy in flight, none for the dropped one');

  sockets[0]!.destroy(new Error('connection reset'));
  await waitFor(async () => cluster.runtime.events.mirrors.failed === 1, 'the failure counted', 5000, 1);
  run(cluster);
  assert.deepEqual(outcomes(cluster), only({ sent: sent + 1, failed: 1, dropped_over_limit: 1 }));
  run(cluster);
  assert.equal(cluster.runtime.events.mirrors.dropped_over_limit, 2, 'full again');
  await headOf(sockets[1]);
  sockets[1]!.receive('HTTP/1.1 204 No Content\r\n\r\n');
  await waitFor(async () => mirrorsInFlight().copies === MAX_MIRRORS_IN_FLIGHT - 1, 'the answered copy to be over', 5000, 1);
  run(cluster);
  assert.deepEqual(outcomes(cluster), only({ sent: sent + 2, failed: 1, dropped_over_limit: 2 }));
});

test(`copied body bytes in flight are bounded (${MAX_MIRROR_BYTES_IN_FLIGHT} bytes): a copy past the bound is dropped`, async (t) => {
  const { cluster, endpoint } = shadowCluster();
  closeAll(t, endpoint);
  const body = Buffer.alloc(MAX_REPLAY_BYTES, 'b');
  const fit = Math.floor((MAX_MIRROR_BYTES_IN_FLIGHT - mirrorsInFlight().bytes) / MAX_REPLAY_BYTES);
  for (let i = 0; i <= fit; i++) {
    const { ctx } = run(cluster, { method: 'POST', hasBody: true, headers: { 'Content-Length': String(body.length) } });
    ctx.replay!.record(body);
    ctx.replay!.end();
  }
  assert.deepEqual(outcomes(cluster), only({ sent: fit, dropped_over_limit: 1 }));
  assert.ok(mirrorsInFlight().bytes <= MAX_MIRROR_BYTES_IN_FLIGHT);
});

test("a mirror cluster's maxConnections holds for copies: none opens a connection past it", async (t) => {
  const { cluster, endpoint, sockets } = shadowCluster({ limits: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 100, maxRetries: 3 } });
  closeAll(t, endpoint);
  run(cluster);
  run(cluster);
  assert.deepEqual(outcomes(cluster), only({ sent: 1, dropped_over_limit: 1 }));
  await headOf(sockets[0]);
  sockets[0]!.receive('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  await waitFor(async () => endpoint.h1.idleCount === 1, 'the connection back in the pool', 5000, 1);
  run(cluster);
  assert.deepEqual(outcomes(cluster), only({ sent: 2, dropped_over_limit: 1 }), 'the idle connection takes it');
  assert.equal(sockets.length, 1);
});

test(`a copy not answered within ${MIRROR_TIMEOUT_MS} ms is given up: its connection closed, counted as failed`, async (t) => {
  const { cluster, endpoint, sockets } = shadowCluster();
  closeAll(t, endpoint);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const copies = mirrorsInFlight().copies;
  run(cluster);
  assert.equal(mirrorsInFlight().copies, copies + 1);
  t.mock.timers.tick(MIRROR_TIMEOUT_MS);
  assert.deepEqual(outcomes(cluster), only({ sent: 1, failed: 1 }));
  assert.equal(mirrorsInFlight().copies, copies);
  assert.equal(sockets[0]!.destroyed, true);
});

/** An HTTP/2 client stream standing in for node's: keeps what is written, ends as the test says. */
class FakeStream extends Duplex {
  readonly written: Buffer[] = [];
  ended = false;
  rstCode: number | undefined = undefined;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk);
    callback();
  }
  override _final(callback: () => void): void {
    this.ended = true;
    callback();
  }
  close(code: number): void {
    this.rstCode = code;
    this.destroy();
  }
  /** The upstream answers `status` and ends the stream. */
  answer(status: number): void {
    this.emit('response', { ':status': status }, 0);
    this.push('dropped');
    this.push(null);
    this.rstCode = 0;
    this.destroy();
  }
}

/** An endpoint whose HTTP/2 session is a fake: the streams opened on it, with their headers and options. */
function h2Shadow(t: TestContext): { cluster: ClusterState; streams: { headers: http2.OutgoingHttpHeaders; endStream: boolean; stream: FakeStream }[]; acquires: () => number } {
  const endpoint = new UpstreamEndpoint('10.2.0.2', 8080);
  const streams: { headers: http2.OutgoingHttpHeaders; endStream: boolean; stream: FakeStream }[] = [];
  const session = {
    request(headers: http2.OutgoingHttpHeaders, opts: { endStream: boolean }) {
      const stream = new FakeStream();
      streams.push({ headers, endStream: opts.endStream, stream });
      return stream;
    },
  };
  const acquire = t.mock.method(endpoint.h2, 'acquire', () => session as unknown as http2.ClientHttp2Session);
  return { cluster: clusterState('shadow-h2', [endpoint]), streams, acquires: () => acquire.mock.callCount() };
}

function h2Run(cluster: ClusterState, headers: http2.IncomingHttpHeaders, endStream: boolean) {
  const next = new NextRecorder();
  const r = fakeRequest({
    protocol: 'h2',
    method: String(headers[':method']),
    path: String(headers[':path']),
    authority: 'grpc.test',
    route: compiledRoute({}, [], [{ target: cluster, perMillion: 1_000_000 }]),
  });
  const down = new H2Downstream({} as http2.ServerHttp2Stream, headers, endStream);
  Object.defineProperty(r.ctx, 'downstream', { value: down });
  mirrorLayer.request(r.ctx, next.handler);
  return { ctx: r.ctx, next };
}

test('an HTTP/2 (gRPC) copy is a stream on the endpoint session with `-shadow` on its :authority and the same body; its answer dropped', async (t) => {
  const { cluster, streams, acquires } = h2Shadow(t);
  const grpc = { ':method': 'POST', ':path': '/pkg.Svc/Call', ':authority': 'grpc.test', ':scheme': 'http', 'content-type': 'application/grpc', te: 'trailers', connection: 'x' };
  const { ctx, next } = h2Run(cluster, grpc, false);
  assert.deepEqual(next.calls, [ctx]);
  assert.equal(streams.length, 0, 'waits for the body');
  ctx.replay!.record(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
  ctx.replay!.end();
  assert.equal(streams.length, 1);
  const { headers, endStream, stream } = streams[0]!;
  assert.deepEqual(headers, {
    ':method': 'POST',
    ':path': '/pkg.Svc/Call',
    ':scheme': 'http',
    ':authority': 'grpc.test-shadow',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  assert.equal(endStream, false);
  await waitFor(async () => stream.ended, 'the body to be written and ended', 5000, 1);
  assert.deepEqual(Buffer.concat(stream.written), Buffer.from([0, 0, 0, 0, 2, 8, 1]));
  stream.answer(200);
  await waitFor(async () => stream.destroyed, 'the stream to close', 5000, 1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(outcomes(cluster), only({ sent: 1 }));

  // A bodiless request goes at once, with the headers as its whole request; a reset stream is a failed copy.
  h2Run(cluster, { ':method': 'GET', ':path': '/x', ':authority': 'grpc.test', ':scheme': 'http' }, true);
  assert.equal(streams[1]!.endStream, true);
  streams[1]!.stream.close(2);
  await waitFor(async () => cluster.runtime.events.mirrors.failed === 1, 'the reset counted as failed', 5000, 1);
  assert.deepEqual(outcomes(cluster), only({ sent: 2, failed: 1 }));
  assert.equal(acquires(), 2, "both on the endpoint's pooled session");
});
