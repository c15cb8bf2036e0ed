// DataPlane.apply(): atomic swaps that keep listeners bound, drain removed ones, report bind
// failures per listener, and keep endpoint pools across configs.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { freePorts } from '../common/free-port.js';
import { cluster, endpoint, httpListener, routeTable, rule, runtimeConfig, simpleConfig, virtualHost } from './testing/config-builder.js';
import { request, startDataPlane, startEchoServer, type Echo } from './testing/test-servers.js';

const name = (body: string) => (JSON.parse(body) as Echo).name;

function twoClusterConfig(port: number, target: 'a' | 'b', aPort: number, bPort: number) {
  return runtimeConfig({
    listeners: [httpListener('out', port)],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', target)])])],
    clusters: [cluster('a', [endpoint(aPort)]), cluster('b', [endpoint(bPort)])],
  });
}

test('a new config keeps the listener bound and changes routing', { timeout: 10_000 }, async (t) => {
  const [a, b] = [await startEchoServer(t, 'a'), await startEchoServer(t, 'b')];
  const { plane } = startDataPlane(t);
  const first = await plane.apply(twoClusterConfig(0, 'a', a.port, b.port));
  assert.deepEqual(first.opened, ['out']);
  const port = plane.port('out')!;
  assert.equal(name((await request(port)).body), 'a');

  // Port 0 again: the same configured address, so the same bound listener.
  const second = await plane.apply(twoClusterConfig(0, 'b', a.port, b.port));
  assert.deepEqual({ opened: second.opened, kept: second.kept, closed: second.closed }, { opened: [], kept: ['out'], closed: [] });
  assert.equal(plane.port('out'), port);
  assert.equal(name((await request(port)).body), 'b');
  assert.equal(plane.config.listeners.get('out')?.port, 0);
});

test('a request in flight during a swap finishes on the config it started with', { timeout: 10_000 }, async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const atA = new Promise<void>((r) => (arrived = r));
  const a = await startEchoServer(t, 'a', (_req, res) => {
    arrived();
    void gate.then(() => res.end('from a'));
  });
  const b = await startEchoServer(t, 'b');
  const { plane } = startDataPlane(t);
  await plane.apply(twoClusterConfig(0, 'a', a.port, b.port));
  const port = plane.port('out')!;
  const inFlight = request(port);
  await atA;
  await plane.apply(twoClusterConfig(0, 'b', a.port, b.port));
  release();
  assert.equal((await inFlight).body, 'from a');
  assert.equal(name((await request(port)).body), 'b');
});

test('a port in use fails that listener only, with its name and reason', { timeout: 10_000 }, async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const busyPort = (blocker.address() as net.AddressInfo).port;
  const upstream = await startEchoServer(t);
  const { plane } = startDataPlane(t);
  const config = runtimeConfig({
    listeners: [httpListener('good', 0), httpListener('busy', busyPort)],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', 'app')])])],
    clusters: [cluster('app', [endpoint(upstream.port)])],
  });
  const result = await plane.apply(config);
  assert.equal(result.ok, false);
  assert.deepEqual(result.opened, ['good']);
  assert.equal(result.failed.length, 1);
  assert.equal(result.failed[0]!.listener, 'busy');
  assert.equal(result.failed[0]!.code, 'LISTENER_BIND_FAILED');
  assert.match(result.failed[0]!.reason, new RegExp(`listener busy could not bind 127.0.0.1:${busyPort}: EADDRINUSE`));
  assert.equal((await request(plane.port('good')!)).status, 200);
  assert.equal(plane.port('busy'), undefined);

  // Once the port is free, the next apply binds it.
  await new Promise<void>((r) => blocker.close(() => r()));
  const again = await plane.apply(config);
  assert.ok(again.ok);
  assert.deepEqual(again.opened, ['busy']);
  assert.deepEqual(again.kept, ['good']);
});

test('a listener left out of the config is closed', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const { plane } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [upstream.port]));
  const port = plane.port('out')!;
  const result = await plane.apply(runtimeConfig({}));
  assert.deepEqual(result.closed, ['out']);
  await assert.rejects(request(port), /ECONNREFUSED/);
  assert.deepEqual(plane.listeners(), []);
});

test('a closed listener lets its request in flight finish', { timeout: 10_000 }, async (t) => {
  let arrived!: () => void;
  const atUpstream = new Promise<void>((r) => (arrived = r));
  const upstream = await startEchoServer(t, 'slow', (_req, res) => {
    arrived();
    setTimeout(() => res.end('late'), 100);
  });
  const { plane } = startDataPlane(t, 5000);
  await plane.apply(simpleConfig(0, [upstream.port]));
  const inFlight = request(plane.port('out')!);
  await atUpstream;
  await plane.apply(runtimeConfig({}));
  assert.equal((await inFlight).body, 'late');
});

test('upstream connections survive a config swap while the endpoint stays', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const { plane } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [upstream.port]));
  const port = plane.port('out')!;
  await request(port);
  await plane.apply(simpleConfig(0, [upstream.port], { timeoutMs: 5000 }));
  await request(port);
  assert.equal(upstream.connections, 1);
});

test('an endpoint that leaves every cluster has its idle connections closed', { timeout: 10_000 }, async (t) => {
  const a = await startEchoServer(t, 'a');
  const b = await startEchoServer(t, 'b');
  const closed = new Promise<void>((resolve) => a.server.once('connection', (s: net.Socket) => s.once('close', () => resolve())));
  const { plane } = startDataPlane(t);
  await plane.apply(simpleConfig(0, [a.port]));
  await request(plane.port('out')!);
  await plane.apply(simpleConfig(0, [b.port]));
  await closed;
  assert.deepEqual(
    plane.stats().endpoints.map((e) => e.endpoint),
    [`127.0.0.1:${b.port}`],
  );
});

test('listeners() reports the bound port of each listener', { timeout: 10_000 }, async (t) => {
  const { plane } = startDataPlane(t);
  await plane.apply(runtimeConfig({ listeners: [httpListener('in', 0, { direction: 'inbound' })] }));
  const [l] = plane.listeners();
  assert.equal(l?.name, 'in');
  assert.equal(l?.direction, 'inbound');
  assert.equal(l?.protocol, 'http');
  assert.ok(l.port > 0);
});

test('a draining listener closes a keep-alive connection once its response is out', { timeout: 10_000 }, async (t) => {
  let arrived!: () => void;
  const atUpstream = new Promise<void>((r) => (arrived = r));
  const upstream = await startEchoServer(t, 'slow', (_req, res) => {
    arrived();
    setTimeout(() => res.end('done'), 100);
  });
  const { plane } = startDataPlane(t, 5000);
  await plane.apply(simpleConfig(0, [upstream.port]));
  const socket = net.connect(plane.port('out')!, '127.0.0.1');
  t.after(() => socket.destroy());
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.on('error', () => {});
  socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  await atUpstream;
  const started = Date.now();
  await plane.apply(runtimeConfig({}));
  await closed;
  assert.match(received, /^HTTP\/1.1 200 OK[\s\S]*done$/);
  assert.ok(Date.now() - started < 2500, 'closed after the response, not at the 5 s grace deadline');
});

test('drainInbound closes inbound listeners only, lets their requests finish, and later configs do not open them again', { timeout: 10_000 }, async (t) => {
  let arrived!: () => void;
  const atUpstream = new Promise<void>((r) => (arrived = r));
  const upstream = await startEchoServer(t, 'slow', (_req, res) => {
    arrived();
    setTimeout(() => res.end('late'), 100);
  });
  const { plane } = startDataPlane(t, 5000);
  const [inPort, outPort] = (await freePorts(2)) as [number, number];
  const config = () =>
    runtimeConfig({
      listeners: [httpListener('in', inPort, { direction: 'inbound' }), httpListener('out', outPort)],
      routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', 'a')])])],
      clusters: [cluster('a', [endpoint(upstream.port)])],
    });
  await plane.apply(config());
  const inFlight = request(inPort);
  await atUpstream;
  await plane.drainInbound(5000);
  assert.equal((await inFlight).body, 'late');
  await assert.rejects(request(inPort), /ECONNREFUSED/);
  assert.equal((await request(outPort)).body, 'late');
  const again = await plane.apply(config());
  assert.deepEqual({ opened: again.opened, kept: again.kept }, { opened: [], kept: ['out'] });
  assert.deepEqual(
    plane.listeners().map((l) => l.name),
    ['out'],
  );
});
