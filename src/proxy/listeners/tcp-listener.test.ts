// TCP listeners: bytes relayed both ways, half-close passed on, failures close the client,
// and bytes counted in metrics.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { freePort } from '../../common/free-port.js';
import { waitFor } from '../../common/wait.js';
import { cluster, endpoint, runtimeConfig, tcpListener } from '../testing/config-builder.js';
import { startDataPlane } from '../testing/test-servers.js';

/** A server that reads until the client's FIN, then answers `echo:<all bytes>` and ends. */
async function startHalfCloseEcho(t: TestContext): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => s.end(`echo:${Buffer.concat(chunks).toString()}`));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

/** Sends `payload`, half-closes, and reads everything until the server closes. */
function exchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('tcp exchange timed out')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString());
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.end(payload);
  });
}

test('a TCP listener relays bytes and passes the half-close on', { timeout: 10_000 }, async (t) => {
  const appPort = await startHalfCloseEcho(t);
  const { plane, metrics } = startDataPlane(t);
  const result = await plane.apply(
    runtimeConfig({ listeners: [tcpListener('db', 0, [{ cluster: 'db', weight: 1 }])], clusters: [cluster('db', [endpoint(appPort)], { service: 'db.default' })] }),
  );
  assert.ok(result.ok);
  const port = plane.port('db')!;
  const payload = 'z'.repeat(100_000);
  assert.equal(await exchange(port, payload), `echo:${payload}`);
  assert.equal(await exchange(port, 'small'), 'echo:small');
  // Bytes are counted when both sockets of a relay have closed.
  const connections = /trellis_tcp_connections_total\{direction="outbound",service="db.default"\} 2\n/;
  const sent = new RegExp(`trellis_tcp_bytes_total\\{direction="outbound",service="db.default",flow="sent"\\} ${payload.length + 5 + 10}\n`);
  await waitFor(async () => connections.test(await metrics.text()) && sent.test(await metrics.text()), 'both relays counted', 3000);
  const text = await metrics.text();
  assert.match(text, /trellis_tcp_connections_total\{direction="outbound",service="db.default"\} 2/);
  assert.match(text, new RegExp(`trellis_tcp_bytes_total\\{direction="outbound",service="db.default",flow="received"\\} ${payload.length + 5}`));
  assert.match(text, new RegExp(`trellis_tcp_bytes_total\\{direction="outbound",service="db.default",flow="sent"\\} ${payload.length + 5 + 10}`));
});

test('a TCP connection to an endpoint that refuses is closed', { timeout: 10_000 }, async (t) => {
  const closedPort = await freePort();
  const { plane } = startDataPlane(t);
  await plane.apply(runtimeConfig({ listeners: [tcpListener('db', 0, [{ cluster: 'db', weight: 1 }])], clusters: [cluster('db', [endpoint(closedPort)])] }));
  assert.equal(await exchange(plane.port('db')!, 'hello'), '');
});

test('a TCP listener whose cluster has no endpoints closes connections at once', { timeout: 10_000 }, async (t) => {
  const { plane } = startDataPlane(t);
  await plane.apply(runtimeConfig({ listeners: [tcpListener('db', 0, [{ cluster: 'db', weight: 1 }])], clusters: [cluster('db', [])] }));
  assert.equal(await exchange(plane.port('db')!, 'hello'), '');
});

test('an upstream reset destroys the downstream connection', { timeout: 10_000 }, async (t) => {
  const server = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const { plane } = startDataPlane(t);
  await plane.apply(
    runtimeConfig({ listeners: [tcpListener('db', 0, [{ cluster: 'db', weight: 1 }])], clusters: [cluster('db', [endpoint((server.address() as net.AddressInfo).port)])] }),
  );
  const closed = await new Promise<boolean>((resolve) => {
    const s = net.connect(plane.port('db')!, '127.0.0.1');
    s.on('error', () => {});
    s.on('close', () => resolve(true));
    s.write('trigger');
    setTimeout(() => resolve(false), 3000).unref();
  });
  assert.ok(closed, 'the client connection closed after the upstream reset');
});
