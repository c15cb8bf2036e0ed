// The listeners' DownstreamLimits with small values, on a DataPlane in this process: the
// connection cap of HTTP and TCP listeners, the request head deadline, the header count.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../common/wait.js';
import { DataPlane } from '../data-plane.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { cluster, endpoint, runtimeConfig, simpleConfig, tcpListener } from '../testing/config-builder.js';
import { request, startEchoServer } from '../testing/test-servers.js';
import type { DownstreamLimits } from './downstream-limits.js';

async function planeWith(t: TestContext, limits: Partial<DownstreamLimits>, config: Parameters<DataPlane['apply']>[0]): Promise<{ port: number; metrics: ProxyMetrics }> {
  const metrics = new ProxyMetrics();
  const plane = new DataPlane({ metrics, drainGraceMs: 100, downstreamLimits: limits });
  t.after(() => plane.close(100));
  const result = await plane.apply(config);
  assert.ok(result.ok, JSON.stringify(result.failed));
  return { port: plane.port('out')!, metrics };
}

async function rejected(metrics: ProxyMetrics, reason: string): Promise<number> {
  const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('trellis_downstream_rejected_total{') && l.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Opens `n` connections; resolves with them once each connected or closed. */
async function openMany(t: TestContext, port: number, n: number): Promise<{ sockets: net.Socket[]; closed: () => number }> {
  let closed = 0;
  const sockets = Array.from({ length: n }, () => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.once('close', () => closed++);
    t.after(() => s.destroy());
    return s;
  });
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((r) => {
          s.once('connect', () => r());
          s.once('close', () => r());
        }),
    ),
  );
  return { sockets, closed: () => closed };
}

test('an HTTP listener closes connections past its cap at once, counts them, and still serves once under it', { timeout: 20_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const { port, metrics } = await planeWith(t, { maxConnectionsPerListener: 20 }, simpleConfig(0, [upstream.port]));
  const flood = await openMany(t, port, 30);
  await waitFor(async () => (await rejected(metrics, 'connection_limit')) === 10, 'ten connections refused', 5000);
  // The listener counts a refusal as it closes the socket; the client hears of the close a moment later.
  await waitFor(async () => flood.closed() >= 10, 'the clients of the ten refused connections see them closed', 5000);
  assert.equal(flood.closed(), 10);
  assert.equal(await rejected(metrics, 'connection_limit'), 10);
  for (const s of flood.sockets) s.destroy();
  await waitFor(async () => (await request(port).catch(() => ({ status: 0 }))).status === 200, 'served again under the cap', 5000);
});

test('a TCP listener has the same cap', { timeout: 20_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const config = runtimeConfig({ listeners: [tcpListener('out', 0, [{ cluster: 'app', weight: 1 }])], clusters: [cluster('app', [endpoint(upstream.port)])] });
  const { port, metrics } = await planeWith(t, { maxConnectionsPerListener: 5 }, config);
  await openMany(t, port, 8);
  await waitFor(async () => (await rejected(metrics, 'connection_limit')) === 3, 'three connections refused', 5000);
});

test('a request head not complete within the deadline is answered 408 and closed; a silent connection is closed', { timeout: 20_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const { port, metrics } = await planeWith(t, { requestHeadTimeoutMs: 300 }, simpleConfig(0, [upstream.port]));
  const { sockets } = await openMany(t, port, 2);
  const [partial, silent] = sockets as [net.Socket, net.Socket];
  let answer = '';
  partial.on('data', (c: Buffer) => (answer += c.toString()));
  partial.write('GET / HTTP/1.1\r\nHost: a\r\n');
  await Promise.all([partial, silent].map((s) => new Promise((r) => s.once('close', r))));
  assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(answer, /x-trellis-error: REQUEST_HEAD_TIMEOUT/);
  assert.equal(await rejected(metrics, 'head_timeout'), 2);
  assert.equal((await request(port)).status, 200, 'a prompt client is served');
});

test('an outbound listener takes 100 header fields and answers 431 past them; an inbound one leaves room for what the calling sidecar adds', { timeout: 20_000 }, async (t) => {
  const upstream = await startEchoServer(t);
  const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-f${i}`, String(i)]));
  const out = await planeWith(t, {}, simpleConfig(0, [upstream.port]));
  // node's client adds Host and Connection: 98 + 2 = 100, 99 + 2 = 101.
  assert.equal((await request(out.port, { headers: fields(98) })).status, 200);
  const over = await request(out.port, { headers: fields(99) });
  assert.equal(over.status, 431);
  assert.equal(over.headers['x-trellis-error'], 'REQUEST_HEADERS_TOO_LARGE');
  const inbound = await planeWith(t, {}, simpleConfig(0, [upstream.port], { listener: { direction: 'inbound' } }));
  assert.equal((await request(inbound.port, { headers: fields(110) })).status, 200);
});
