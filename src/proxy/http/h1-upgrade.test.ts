// Which upgrades pass, and the exchange after a 101 on in-memory sockets: the 101 written
// downstream with Connection/Upgrade, the client's early bytes and the server's first ones
// delivered, bytes relayed both ways and counted, the request ended once when the relay is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DOWNSTREAM_LIMITS } from '../listeners/downstream-limits.js';
import { H1ServerConnection } from '../listeners/h1-server-connection.js';
import type { UpstreamEndpoint } from '../pool/upstream-endpoint.js';
import { FakeSocket } from '../testing/tcp-fakes.js';
import type { H1Downstream } from './h1-downstream.js';
import { relayUpgraded, upgradeRefusal } from './h1-upgrade.js';
import type { RequestContext } from './request-context.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

test('websocket passes (any case); any other upgrade is refused with 403 naming it', () => {
  assert.equal(upgradeRefusal('websocket'), undefined);
  assert.equal(upgradeRefusal('WebSocket'), undefined);
  for (const other of ['foo/1', 'websocket, foo', 'TLS/1.2', 'websockets']) {
    const refusal = upgradeRefusal(other);
    assert.equal(refusal?.code, 'FORBIDDEN', other);
    assert.match(refusal.message, new RegExp(`upgrade to ${JSON.stringify(other).replace('/', '\\/')} is not allowed`));
  }
});

/** A downstream connection that received an upgrade request and `early` bytes right after it. */
async function upgradeRequest(early: string) {
  const socket = new FakeSocket();
  const served: H1Downstream[] = [];
  let closedConnections = 0;
  new H1ServerConnection(
    socket.asSocket(),
    { limits: DEFAULT_DOWNSTREAM_LIMITS, draining: false, serve: (d) => void served.push(d), rejected: () => {}, closed: () => void closedConnections++ },
    undefined,
  );
  socket.receive('GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n' + early);
  await settle();
  assert.equal(served.length, 1);
  const down = served[0]!;
  let ended = 0;
  const ctx = { route: undefined, status: 0, upstream: undefined, requestBytes: 0, responseBytes: 0 } as unknown as RequestContext;
  down.observer = { downstreamClosed: () => void ended++ };
  return { socket, down, ctx, ended: () => ended, closedConnections: () => closedConnections };
}

test('after a 101 both connections are one relay; the request ends once, with the bytes relayed each way', async () => {
  const { socket, down, ctx, ended, closedConnections } = await upgradeRequest('early-frame');
  const upstream = new FakeSocket();
  const endpoint = { active: 0, key: '10.1.0.5:9000' } as UpstreamEndpoint;
  const problem = relayUpgraded(
    ctx,
    down,
    endpoint,
    { reason: 'Switching Protocols', headers: ['Sec-WebSocket-Accept', 'abc='], protocol: 'websocket', rest: Buffer.from('server-first') },
    upstream.asSocket(),
  );
  assert.equal(problem, undefined);
  assert.equal(ctx.status, 101);
  assert.equal(endpoint.active, 1);
  await settle();
  assert.equal(socket.text(), 'HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: abc=\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\nserver-first');
  assert.equal(upstream.text(), 'early-frame', 'what the client sent after the request goes upstream first');

  socket.receive('GET / HTTP/1.1\r\nhost: a\r\n\r\n'); // not HTTP any more: relayed as bytes
  upstream.receive('reply');
  await settle();
  assert.equal(upstream.text(), 'early-frameGET / HTTP/1.1\r\nhost: a\r\n\r\n');
  assert.match(socket.text(), /server-firstreply$/);
  assert.equal(ended(), 0, 'the request lasts as long as the relay');

  upstream.destroy();
  await settle();
  assert.equal(socket.destroyed, true);
  assert.equal(ended(), 1);
  assert.equal(closedConnections(), 1);
  assert.equal(ctx.requestBytes, 'early-frame'.length + 'GET / HTTP/1.1\r\nhost: a\r\n\r\n'.length);
  assert.equal(ctx.responseBytes, 'server-first'.length + 'reply'.length);
  assert.equal(endpoint.active, 0);
  assert.equal(ctx.upstream, undefined);
});

test('the request failed by the proxy while relaying (cancel) closes both connections', async () => {
  const { socket, down, ctx, ended } = await upgradeRequest('');
  const upstream = new FakeSocket();
  relayUpgraded(ctx, down, { active: 0, key: 'e' } as UpstreamEndpoint, { reason: '', headers: [], protocol: 'websocket', rest: undefined }, upstream.asSocket());
  ctx.upstream!.cancel();
  await settle();
  assert.equal(socket.destroyed, true);
  assert.equal(upstream.destroyed, true);
  assert.equal(ended(), 1);
});

test('a 101 that cannot be written downstream writes nothing and closes the upstream', async () => {
  const { socket, down, ctx, ended } = await upgradeRequest('');
  const upstream = new FakeSocket();
  const problem = relayUpgraded(
    ctx,
    down,
    { active: 0, key: 'e' } as UpstreamEndpoint,
    { reason: '', headers: ['x-bad', 'a\r\nb'], protocol: 'websocket', rest: undefined },
    upstream.asSocket(),
  );
  assert.match(problem ?? '', /the 101 response could not be relayed: invalid character in the value of response header x-bad/);
  await settle();
  assert.equal(socket.text(), '');
  assert.equal(upstream.destroyed, true);
  assert.equal(ctx.status, 0);
  assert.equal(ended(), 0, 'the caller fails the request');
});
