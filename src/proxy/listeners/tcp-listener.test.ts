// TCP listeners: bytes relayed both ways, half-close passed on, failures close the client,
// and bytes counted in metrics.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { test, type TestContext } from 'node:test';
import { freePort } from '../../common/free-port.js';
import { waitFor } from '../../common/wait.js';
import { DataPlane } from '../data-plane.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { cluster, endpoint, runtimeConfig, tcpListener } from '../testing/config-builder.js';
import { staticTlsSource, testCa } from '../testing/test-certs.js';
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

/** Byte i of a bulk transfer: a pattern whose period (251, a prime) no read or record size is a multiple of, so a byte lost, doubled or overwritten shows. */
const bulkByte = (i: number): number => i % 251;

/** A server (TLS when `id` is given) that sends `bytes` of the pattern to each client from one preallocated buffer (no memory per write), then ends. */
async function startBulkSource(t: TestContext, bytes: number, id?: tls.TlsOptions): Promise<number> {
  const chunk = Buffer.alloc(251 * 4096);
  for (let i = 0; i < chunk.length; i++) chunk[i] = bulkByte(i);
  const server = (id === undefined ? net.createServer() : tls.createServer(id)).on(id === undefined ? 'connection' : 'secureConnection', (s: net.Socket) => {
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
      }
      s.end();
    };
    s.on('error', () => {});
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

test('a bulk transfer through a TCP listener reads the upstream into buffers of the relay, not a new one per read', { timeout: 60_000 }, async (t) => {
  const total = 64 * 1024 * 1024;
  const appPort = await startBulkSource(t, total);
  const { plane } = startDataPlane(t);
  await plane.apply(runtimeConfig({ listeners: [tcpListener('bulk', 0, [{ cluster: 'bulk', weight: 1 }])], clusters: [cluster('bulk', [endpoint(appPort)])] }));
  // The client reads into one buffer too, so the proxy's buffers are all this process allocates per read.
  const base = process.memoryUsage().arrayBuffers;
  let received = 0;
  let reads = 0;
  let peak = 0;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({
      port: plane.port('bulk')!,
      host: '127.0.0.1',
      onread: {
        buffer: Buffer.alloc(64 * 1024),
        callback: (n) => {
          received += n;
          if (++reads % 16 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
          return true;
        },
      },
    });
    socket.setTimeout(30_000, () => socket.destroy(new Error('bulk transfer timed out')));
    socket.on('error', reject);
    socket.on('end', () => {
      socket.end();
      resolve();
    });
  });
  assert.equal(received, total);
  // Node's own reads would take a new 64 KiB buffer each, freed only at the next GC: tens of MiB here.
  assert.ok(peak < 4 * 1024 * 1024, `array buffers grew by ${(peak / 1048576).toFixed(1)} MiB during the transfer`);
});

test('a TLS upstream relayed to a client that reads in bursts arrives intact, every byte in order', { timeout: 60_000 }, async (t) => {
  const ca = await testCa();
  const upstreamId = 'spiffe://trellis.local/ns/default/sa/bulk';
  const total = 24 * 1024 * 1024;
  const appPort = await startBulkSource(t, total, { ...(await ca.issue(upstreamId)), ca: ca.certPem, requestCert: true, rejectUnauthorized: true });
  const plane = new DataPlane({ metrics: new ProxyMetrics(), drainGraceMs: 200, tls: staticTlsSource(await ca.issue('spiffe://trellis.local/ns/default/sa/client'), ca.certPem) });
  t.after(() => plane.close(200));
  await plane.apply(
    runtimeConfig({ listeners: [tcpListener('bulk', 0, [{ cluster: 'bulk', weight: 1 }])], clusters: [cluster('bulk', [endpoint(appPort)], { tls: { sans: [upstreamId] } })] }),
  );
  // Pauses let the socket buffers fill, so the proxy's writes to the client wait while TLS still hands on records.
  let received = 0;
  let firstWrong = -1;
  let nextPause = 1024 * 1024;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(plane.port('bulk')!, '127.0.0.1');
    socket.setTimeout(30_000, () => socket.destroy(new Error('bulk transfer timed out')));
    socket.on('data', (c: Buffer) => {
      for (let i = 0; i < c.length && firstWrong < 0; i++) if (c[i] !== bulkByte(received + i)) firstWrong = received + i;
      received += c.length;
      if (received < nextPause) return;
      nextPause += 1024 * 1024;
      socket.pause();
      setTimeout(() => socket.resume(), 20);
    });
    socket.on('error', reject);
    socket.on('end', () => {
      socket.end();
      resolve();
    });
  });
  assert.equal(firstWrong, -1, `byte ${firstWrong} differs from what the upstream sent`);
  assert.equal(received, total);
});
