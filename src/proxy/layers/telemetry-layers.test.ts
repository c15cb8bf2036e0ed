// The telemetry layers through a real data plane: trace context continued with a new span id
// and the span exported over OTLP/HTTP; sampling; B3; the caller: from mTLS when there is a peer
// identity, else the (unauthenticated) source header, and its labels; the access log; the tap.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../common/wait.js';
import { DataPlane } from '../data-plane.js';
import { seriesSum } from '../metrics/prom-text.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import type { RequestContext } from '../http/request-context.js';
import { MAX_SOURCES, ProxyTelemetry } from '../telemetry/proxy-telemetry.js';
import { sourceLayer } from './source-layer.js';
import type { TapEvent } from '../telemetry/tap-hub.js';
import { simpleConfig } from '../testing/config-builder.js';
import { staticTlsSource, testCa } from '../testing/test-certs.js';
import { request, startEchoServer } from '../testing/test-servers.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';

/** An OTLP/HTTP receiver on 127.0.0.1 keeping every request body. */
async function receiver(t: TestContext): Promise<{ url: string; bodies: any[] }> {
  const bodies: any[] = [];
  const server = http.createServer((req, res) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(JSON.parse(s));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, bodies };
}

function plane(t: TestContext, accessLogTarget?: string, tls?: ReturnType<typeof staticTlsSource>) {
  const metrics = new ProxyMetrics();
  const telemetry = new ProxyTelemetry({
    identity: { service: 'web.default', serviceName: 'web', namespace: 'default', workload: 'web-v1', nodeId: 'sidecar~test' },
    metrics,
    ...(accessLogTarget ? { accessLogTarget } : {}),
  });
  const dp = new DataPlane({ metrics, telemetry, drainGraceMs: 100, ...(tls ? { tls } : {}) });
  t.after(async () => {
    await dp.close(100);
    await telemetry.close();
  });
  return { dp, metrics, telemetry };
}

const spansOf = (bodies: any[]) => bodies.flatMap((b) => b.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans)));

test("a traced request continues the caller's trace with a new span, exported as a CLIENT span", { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'app');
  const otlp = await receiver(t);
  const { dp, telemetry } = plane(t);
  await dp.apply(simpleConfig(0, [upstream.port], { listener: { telemetry: { tracingPercent: 0, collector: otlp.url, collectorProtocol: 'http/json' } } }));
  const res = await request(dp.port('out')!, { headers: { traceparent: `00-${TID}-${SID}-01`, tracestate: 'vendor=1' } });
  const seen = JSON.parse(res.body).headers as Record<string, string>;
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen.traceparent ?? '');
  assert.ok(m, `upstream traceparent ${seen.traceparent}`);
  assert.equal(m[1], TID, 'same trace');
  assert.notEqual(m[2], SID, 'a new span id for this hop');
  assert.equal(seen.tracestate, 'vendor=1');
  assert.equal(seen['x-trellis-source'], 'web.default/web-v1');
  await telemetry.exporter.flush();
  await waitFor(async () => spansOf(otlp.bodies).length === 1, 'one span exported', 3000);
  const [span] = spansOf(otlp.bodies);
  assert.equal(span.traceId, TID);
  assert.equal(span.spanId, m[2]);
  assert.equal(span.parentSpanId, SID);
  assert.equal(span.kind, 3);
  assert.equal(span.traceState, 'vendor=1');
  const attr = Object.fromEntries(span.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));
  assert.equal(attr['http.request.method'], 'GET');
  assert.equal(attr['http.response.status_code'], 200);
  assert.equal(attr['trellis.destination.service'], 'app');
  assert.equal(otlp.bodies[0].resourceSpans[0].resource.attributes.find((a: any) => a.key === 'service.name').value.stringValue, 'web');
});

test(
  'sampling: 0 % passes a "not sampled" decision on (issue 14), the caller\'s "not sampled" is passed on unrecorded, 100 % traces every request',
  { timeout: 10_000 },
  async (t) => {
    const upstream = await startEchoServer(t, 'app');
    const otlp = await receiver(t);
    const { dp, telemetry } = plane(t);
    await dp.apply(simpleConfig(0, [upstream.port], { listener: { telemetry: { tracingPercent: 0, collector: otlp.url, collectorProtocol: 'http/json' } } }));
    const port = dp.port('out')!;
    assert.match(JSON.parse((await request(port)).body).headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, 'the decision goes upstream, so no proxy decides again');
    const unsampled = JSON.parse((await request(port, { headers: { traceparent: `00-${TID}-${SID}-00` } })).body).headers.traceparent as string;
    assert.match(unsampled, new RegExp(`^00-${TID}-[0-9a-f]{16}-00$`));
    await dp.apply(simpleConfig(port, [upstream.port], { listener: { telemetry: { tracingPercent: 100, collector: otlp.url, collectorProtocol: 'http/json' } } }));
    for (let i = 0; i < 3; i++) assert.match(JSON.parse((await request(port)).body).headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await telemetry.exporter.flush();
    await waitFor(async () => spansOf(otlp.bodies).length === 3, 'three spans, none for the unsampled requests', 3000);
    assert.equal(new Set(spansOf(otlp.bodies).map((s: any) => s.traceId)).size, 3, 'each new request is a new trace');
    assert.ok(
      spansOf(otlp.bodies).every((s: any) => s.parentSpanId === undefined),
      'new traces have root spans',
    );
  },
);

test('B3 multi headers are continued in B3 (and traceparent), the old values not copied', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'app');
  const otlp = await receiver(t);
  const { dp } = plane(t);
  await dp.apply(simpleConfig(0, [upstream.port], { listener: { telemetry: { tracingPercent: 100, collector: otlp.url, collectorProtocol: 'http/json' } } }));
  const seen = JSON.parse((await request(dp.port('out')!, { headers: { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-sampled': '1' } })).body).headers as Record<string, string>;
  assert.equal(seen['x-b3-traceid'], TID);
  assert.notEqual(seen['x-b3-spanid'], SID);
  assert.equal(seen['x-b3-parentspanid'], SID);
  assert.equal(seen['x-b3-sampled'], '1');
  assert.equal(seen.traceparent, `00-${TID}-${seen['x-b3-spanid']}-01`);
});

test('inbound requests are labelled with the caller from x-trellis-source', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'app');
  const { dp, metrics } = plane(t);
  await dp.apply(simpleConfig(0, [upstream.port], { listener: { direction: 'inbound' } }));
  for (let i = 0; i < 3; i++) await request(dp.port('out')!, { headers: { 'x-trellis-source': 'shop.default/shop-v2' } });
  await request(dp.port('out')!);
  const labels = { direction: 'inbound', service: 'web.default', destination_workload: 'web-v1', code: '200' };
  await waitFor(async () => seriesSum(await metrics.text(), 'trellis_requests_total', labels) === 4, 'four requests recorded', 3000);
  const text = await metrics.text();
  assert.equal(seriesSum(text, 'trellis_requests_total', { ...labels, source_service: 'shop.default', source_workload: 'shop-v2' }), 3);
  assert.equal(seriesSum(text, 'trellis_requests_total', { ...labels, source_service: 'unknown', source_workload: 'unknown' }), 1);
  // Plaintext: the header is kept, but as the caller's own claim.
  assert.equal(seriesSum(text, 'trellis_requests_total', { ...labels, source_service: 'shop.default', source_authenticated: 'false' }), 3);
  assert.equal(seriesSum(text, 'trellis_requests_total', { ...labels, source_authenticated: 'true' }) ?? 0, 0);
  assert.equal(seriesSum(text, 'http_server_request_duration_seconds_count', { service: 'web.default', source_workload: 'shop-v2', route: 'all/default' }), 3);
});

test('the access log writes one JSON line per sampled request, nothing at 0 %', { timeout: 10_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-alog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'access.log');
  const upstream = await startEchoServer(t, 'app');
  const { dp, telemetry } = plane(t, file);
  await dp.apply(simpleConfig(0, [upstream.port], { listener: { telemetry: { accessLogPercent: 0 } } }));
  const port = dp.port('out')!;
  await request(port, { path: '/nothing' });
  await dp.apply(simpleConfig(port, [upstream.port], { listener: { telemetry: { accessLogPercent: 100 } } }));
  await request(port, { method: 'POST', path: '/logged?q=1', body: 'abcd', headers: { 'user-agent': 'test-agent', 'x-request-id': 'r-1' } });
  await waitFor(async () => telemetry.accessLog.written === 1, 'one line written', 3000);
  await telemetry.accessLog.close();
  const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
  assert.equal(lines.length, 1);
  const e = JSON.parse(lines[0]!);
  assert.equal(e.method, 'POST');
  assert.equal(e.path, '/logged?q=1');
  assert.equal(e.response_code, 200);
  assert.equal(e.response_flags, '-');
  assert.equal(e.bytes_received, 4);
  assert.ok(e.bytes_sent > 0);
  assert.equal(e.upstream_host, `127.0.0.1:${upstream.port}`);
  assert.equal(e.source_workload, 'web-v1');
  assert.equal(e.destination_service, 'app');
  assert.equal(e.user_agent, 'test-agent');
  assert.equal(e.request_id, 'r-1');
  assert.match(e.start_time, /^\d{4}-\d\d-\d\dT/);
});

test('tap delivers matching requests to subscribers only while they listen', { timeout: 10_000 }, async (t) => {
  const upstream = await startEchoServer(t, 'app');
  const { dp, telemetry } = plane(t);
  await dp.apply(simpleConfig(0, [upstream.port]));
  const port = dp.port('out')!;
  const got: TapEvent[] = [];
  const stop = telemetry.tap.subscribe({ path: '/api' }, (e) => {
    got.push(e);
    return true;
  });
  await request(port, { path: '/api/items' });
  await request(port, { path: '/other' });
  await waitFor(async () => got.length === 1, 'the /api request tapped', 3000);
  stop();
  await request(port, { path: '/api/after' });
  assert.equal(got.length, 1);
  assert.equal(got[0]!.path, '/api/items');
  assert.equal(got[0]!.status, 200);
  assert.equal(got[0]!.service, 'app');
  assert.equal(got[0]!.sourceWorkload, 'web-v1');
  assert.equal(telemetry.tap.active, false);
});

/** What the source layer reports for one inbound request with `peer` (mTLS) and `header`. */
function inboundSource(telemetry: ProxyTelemetry, peer: string | undefined, header: string | undefined): { service: string; workload: string; authenticated: boolean } {
  const ctx = {
    direction: 'inbound',
    peerIdentity: peer,
    header: (name: string) => (name === 'x-trellis-source' ? header : undefined),
    sourceService: '',
    sourceWorkload: '',
    sourceAuthenticated: false,
  } as unknown as RequestContext;
  let reached = false;
  sourceLayer(telemetry).request(ctx, () => (reached = true));
  assert.ok(reached, 'the source layer calls next');
  return { service: ctx.sourceService, workload: ctx.sourceWorkload, authenticated: ctx.sourceAuthenticated };
}

const SHOP_PEER = 'spiffe://trellis.local/ns/default/sa/shop';

test("on mTLS the source service is the peer's SPIFFE ID; a forged x-trellis-source does not change it", (t) => {
  const { telemetry } = plane(t);
  assert.deepEqual(inboundSource(telemetry, SHOP_PEER, 'admin.kube-system/admin-v1'), { service: 'shop.default', workload: 'unknown', authenticated: true });
  assert.deepEqual(inboundSource(telemetry, SHOP_PEER, 'shop.other/shop-v2'), { service: 'shop.default', workload: 'unknown', authenticated: true }, 'same name, other namespace');
  assert.deepEqual(inboundSource(telemetry, SHOP_PEER, 'shop.defaultx/shop-v2'), { service: 'shop.default', workload: 'unknown', authenticated: true }, 'a longer service name');
  assert.deepEqual(inboundSource(telemetry, SHOP_PEER, undefined), { service: 'shop.default', workload: 'unknown', authenticated: true });
  // The header may name the workload of the authenticated service.
  assert.deepEqual(inboundSource(telemetry, SHOP_PEER, 'shop.default/shop-v2'), { service: 'shop.default', workload: 'shop-v2', authenticated: true });
  assert.deepEqual(inboundSource(telemetry, 'spiffe://trellis.local/ns/prod/sa/cart', 'shop.default/shop-v2'), { service: 'cart.prod', workload: 'unknown', authenticated: true });
  assert.deepEqual(
    inboundSource(telemetry, 'spiffe://example.org/not-a-trellis-id', 'shop.default/shop-v2'),
    { service: 'unknown', workload: 'unknown', authenticated: true },
    'a foreign SPIFFE ID never falls back to the header',
  );
});

test('through a real mTLS listener, a forged x-trellis-source does not change the source service', { timeout: 20_000 }, async (t) => {
  const ca = await testCa();
  const upstream = await startEchoServer(t, 'app');
  const { dp, metrics } = plane(t, undefined, staticTlsSource(await ca.issue('spiffe://trellis.local/ns/default/sa/web'), ca.certPem));
  const result = await dp.apply(simpleConfig(0, [upstream.port], { listener: { direction: 'inbound', tls: { mode: 'strict' } } }));
  assert.ok(result.ok, JSON.stringify(result.failed));
  const shop = await ca.issue(SHOP_PEER);
  const get = (source: string) =>
    new Promise<number>((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: dp.port('out')!,
          path: '/',
          ca: ca.certPem,
          ...shop,
          agent: false,
          checkServerIdentity: () => undefined,
          headers: { 'x-trellis-source': source },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
    });
  assert.equal(await get('admin.kube-system/admin-v1'), 200);
  assert.equal(await get('shop.default/shop-v2'), 200);
  const labels = { direction: 'inbound', service: 'web.default', code: '200' };
  await waitFor(async () => seriesSum(await metrics.text(), 'trellis_requests_total', labels) === 2, 'two requests recorded', 3000);
  const text = await metrics.text();
  assert.equal(seriesSum(text, 'trellis_requests_total', { ...labels, source_service: 'admin.kube-system' }) ?? 0, 0, 'the forged service is not reported');
  assert.equal(seriesSum(text, 'trellis_requests_total', { ...labels, source_service: 'shop.default', source_workload: 'unknown', source_authenticated: 'true' }), 1);
  assert.equal(seriesSum(text, 'trellis_requests_total', { ...labels, source_service: 'shop.default', source_workload: 'shop-v2', source_authenticated: 'true' }), 1);
  assert.equal(seriesSum(text, 'trellis_tls_handshakes_total', { direction: 'inbound', service: 'web.default', result: 'ok' }), 2);
});

test('on mTLS the distinct workloads a peer may claim are bounded', (t) => {
  const { telemetry } = plane(t);
  for (let i = 0; i < MAX_SOURCES; i++) assert.equal(inboundSource(telemetry, SHOP_PEER, `shop.default/w${i}`).workload, `w${i}`);
  assert.deepEqual(inboundSource(telemetry, SHOP_PEER, 'shop.default/one-too-many'), { service: 'shop.default', workload: 'unknown', authenticated: true });
});

test("plaintext callers keep the header's service and workload, reported as unauthenticated", (t) => {
  const { telemetry } = plane(t);
  assert.deepEqual(inboundSource(telemetry, undefined, 'admin.kube-system/admin-v1'), { service: 'admin.kube-system', workload: 'admin-v1', authenticated: false });
  assert.deepEqual(inboundSource(telemetry, undefined, undefined), { service: 'unknown', workload: 'unknown', authenticated: false });
  assert.deepEqual(inboundSource(telemetry, undefined, 'no-slash'), { service: 'unknown', workload: 'unknown', authenticated: false });
});

test('outbound the source is this proxy, authenticated, whatever the app sends', (t) => {
  const { telemetry } = plane(t);
  const ctx = {
    direction: 'outbound',
    peerIdentity: undefined,
    header: () => 'forged.default/x',
    sourceService: '',
    sourceWorkload: '',
    sourceAuthenticated: false,
    upstreamHeaders: undefined,
  } as unknown as RequestContext;
  sourceLayer(telemetry).request(ctx, () => {});
  assert.deepEqual([ctx.sourceService, ctx.sourceWorkload, ctx.sourceAuthenticated], ['web.default', 'web-v1', true]);
});
