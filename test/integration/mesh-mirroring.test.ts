// Request mirroring across real sidecars (HTTPRoute RequestMirror): HTTP/1.1 POSTs with bodies and
// HTTP/2 requests (gRPC-framed bodies) reach the shadow Service with the same body and `-shadow` on their
// host, over the pooled mTLS connections to its sidecar (handshakes far below copies, counted on
// both sidecars), and a slow, failing or stopped mirror neither slows nor fails the callers.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { cleanup } from './cleanup.js';
import { applyResources, counter, FIXTURES, get, httpService, startControlPlane, startWorkload } from './harness.js';

interface Seen {
  protocol: string;
  method: string;
  path: string;
  authority: string;
  body: string;
}

/** One HTTP/2 request on `session`: status and how long it took. */
function h2Post(session: http2.ClientHttp2Session, path: string, body: Buffer): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    // Not gRPC: both apps' ports are declared http (HTTP/1.1), and gRPC needs HTTP/2 to the app;
    // the shadow's sidecar translates these streams to HTTP/1.1 (the copies' mesh hop stays h2).
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/octet-stream' });
    req.setTimeout(10_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => resolve({ status: Number(h[':status']), ms: performance.now() - start }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function h2Session(t: TestContext, port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanup(t, () => session.destroy());
  return session;
}

/** A gRPC length-prefixed message holding `text`. */
const grpcFrame = (text: string): Buffer => {
  const payload = Buffer.from(text);
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
};

test(
  'mirrored HTTP/1.1 bodies and HTTP/2 streams reach the shadow over pooled mTLS connections; a slow, failing or stopped mirror changes nothing for callers',
  { timeout: 240_000 },
  async (t) => {
    const cp = await startControlPlane(t);
    await applyResources(cp, [
      httpService('orders'),
      httpService('shadow'),
      httpService('client'),
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'orders', namespace: 'default' },
        spec: {
          parentRefs: [{ kind: 'Service', name: 'orders', port: 8080 }],
          rules: [{ backendRefs: [{ name: 'orders', port: 8080 }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 } } }] }],
        },
      },
    ]);
    await startWorkload(t, cp, { service: 'orders', app: [process.execPath, path.join(FIXTURES, 'counting-app.mjs')] });
    const shadow = await startWorkload(t, cp, { service: 'shadow', app: [process.execPath, path.join(FIXTURES, 'shadow-app.mjs')], env: { SLOW_MS: '5000' } });
    const client = await startWorkload(t, cp, { service: 'client', upstreams: ['orders:8080'] });
    const port = client.upstreamPorts['orders:8080']!;
    const base = `http://127.0.0.1:${port}`;
    const seen = async () => (await get(`http://127.0.0.1:${shadow.appPort}/__seen`)).body as Seen[];
    await waitFor(async () => (await get(`${base}/warm`)).status === 200 && (await seen()).some((s) => s.path === '/warm'), 'orders reachable and mirrored', 20_000, 100);
    const mirrors = (outcome: string) => counter(client.adminUrl, 'trellis_mirror_requests_total', { service: 'shadow.default', outcome });
    const outboundHandshakes = () => counter(client.adminUrl, 'trellis_tls_handshakes_total', { direction: 'outbound', service: 'shadow.default', result: 'ok' });
    const inboundHandshakes = () => counter(shadow.adminUrl, 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'ok' });
    const handshakesBefore = [await outboundHandshakes(), await inboundHandshakes()];
    const before = (await seen()).length;
    const sentBefore = await mirrors('sent');

    // HTTP/1.1 POSTs with bodies, 4 callers at a time. Each batch waits for its copies to reach the
    // shadow: copies are sent without waiting, so on a loaded machine they would otherwise pile up,
    // and each HTTP/1.1 copy in flight rightly needs a connection of its own.
    const h1Bodies = Array.from({ length: 200 }, (_, i) => `order ${i} ${'x'.repeat(i * 37)}`);
    for (let i = 0; i < h1Bodies.length; i += 4) {
      const statuses = await Promise.all(
        h1Bodies.slice(i, i + 4).map(async (body, j) => (await fetch(`${base}/orders/${i + j}`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) })).status),
      );
      assert.deepEqual(statuses, [200, 200, 200, 200]);
      await waitFor(async () => (await seen()).length - before >= i + 4, `the shadow received the copies of requests ${i}-${i + 3}`, 20_000, 20);
    }
    // HTTP/2: gRPC-framed bodies, 10 streams at a time on one client session.
    const session = h2Session(t, port);
    const h2Bodies = Array.from({ length: 100 }, (_, i) => grpcFrame(`call ${i}`));
    for (let i = 0; i < h2Bodies.length; i += 10) {
      const results = await Promise.all(h2Bodies.slice(i, i + 10).map((body, j) => h2Post(session, `/orders.Orders/Place/${i + j}`, body)));
      assert.deepEqual(
        results.map((r) => r.status),
        Array(10).fill(200),
      );
    }
    await waitFor(async () => (await seen()).length - before === 300, 'the shadow received a copy of each of the 300 requests', 20_000, 100);
    const copies = (await seen()).slice(before);
    const h1Copies = copies.filter((c) => c.path.startsWith('/orders/'));
    const h2Copies = copies.filter((c) => c.path.startsWith('/orders.Orders/'));
    assert.equal(h1Copies.length, 200);
    for (const c of h1Copies) {
      assert.equal(c.body, h1Bodies[Number(c.path.split('/')[2])], `the copy of ${c.path} has the same body`);
      assert.equal(c.method, 'POST');
      assert.equal(c.authority, `127.0.0.1:${port}-shadow`);
    }
    assert.equal(h2Copies.length, 100);
    for (const c of h2Copies) {
      assert.equal(c.body, h2Bodies[Number(c.path.split('/')[3])]!.toString(), `the copy of ${c.path} has the same body`);
      assert.equal(c.authority, `127.0.0.1:${port}-shadow`);
    }
    assert.equal((await mirrors('sent')) - sentBefore, 300);
    assert.equal(await mirrors('failed'), 0);

    // The copies rode the pooled connections: a few handshakes for 300 copies (one per copy before;
    // a copy's connection is busy until the shadow answers, and idle ones close after 4 s).
    const outbound = (await outboundHandshakes()) - handshakesBefore[0]!;
    const inbound = (await inboundHandshakes()) - handshakesBefore[1]!;
    t.diagnostic(`300 copies: ${outbound} outbound handshakes at the client's sidecar, ${inbound} inbound at the shadow's`);
    assert.ok(outbound <= 30, `${outbound} outbound mTLS handshakes to the shadow for 300 copies`);
    assert.ok(inbound <= 30, `${inbound} mTLS handshakes at the shadow's sidecar for 300 copies`);

    // A slow mirror (5 s) and a failing one (500): the callers' answers come at once, all 200.
    const slow = await Promise.all([
      ...Array.from({ length: 20 }, async (_, i) => {
        const start = performance.now();
        const status = (await fetch(`${base}/slow/${i}`, { method: 'POST', body: `slow ${i}`, signal: AbortSignal.timeout(10_000) })).status;
        return { status, ms: performance.now() - start };
      }),
      ...Array.from({ length: 20 }, (_, i) => h2Post(session, `/slow/h2/${i}`, grpcFrame(`slow ${i}`))),
    ]);
    assert.deepEqual(new Set(slow.map((r) => r.status)), new Set([200]));
    const slowest = Math.max(...slow.map((r) => r.ms));
    t.diagnostic(`slowest caller with a 5 s mirror: ${Math.round(slowest)} ms`);
    assert.ok(slowest < 2500, `the slowest caller took ${Math.round(slowest)} ms while the mirror takes 5000 ms`);
    for (let i = 0; i < 40; i++) assert.equal((await get(`${base}/fail/${i}`)).status, 200, 'the mirror answers 500, the caller sees the primary');
    await waitFor(async () => (await seen()).filter((s) => s.path.startsWith('/slow/')).length === 40, 'the slow copies answered', 30_000, 200);

    // A stopped mirror: its copies fail (or find no endpoint once it left the config); callers go on.
    await shadow.stop();
    for (let i = 0; i < 40; i++) assert.equal((await get(`${base}/after/${i}`)).status, 200);
    const lost = (await mirrors('failed')) + (await mirrors('dropped_no_endpoint'));
    assert.ok(lost >= 1, `copies to the stopped mirror counted as failed or without endpoint: ${lost}`);
  },
);
