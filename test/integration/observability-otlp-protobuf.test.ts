// OTLP over protobuf and gRPC end to end, checked by a collector independent of Trellis's OTLP
// code (otlp-collector.ts: protobufjs and grpc-js on the vendored OpenTelemetry protos): two
// sidecars (a calls b) with MeshConfig tracing at 100 % export each request's three spans over
// http/protobuf, then, after the MeshConfig switches to grpc, over TraceService/Export; the
// control plane's --forward-spans with --forward-spans-protocol http/protobuf passes on what its
// own receiver got (protobuf from the sidecars, by default); and its /v1/traces takes a
// protobuf body from OpenTelemetry JS's serializer and serves the spans at /api/v1/traces. A
// protocol that is none of OTLP's, from the flag or the environment, stops the control plane
// before it starts, naming where it came from.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, get, httpService, permissive, runCli, startControlPlane, startWorkload, type ControlPlane, type Workload } from './harness.js';
import { otlpCollector, type ReceivedSpan } from './otlp-collector.js';

const require = createRequire(import.meta.url);
const { serializeTraceExportRequest } = require('@opentelemetry/otlp-transformer/build/src/trace/protobuf/trace-serializer.js') as {
  serializeTraceExportRequest(this: void, spans: unknown[]): Uint8Array;
};

const meshConfig = (tracing: object) => ({ apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { tracing } });
const CHAIN_APP = [process.execPath, path.join(FIXTURES, 'chain-app.mjs')];
const SERVER = 2;
const CLIENT = 3;

/** b; a calling b (a is PERMISSIVE: the test calls it from outside the mesh). */
async function pair(t: TestContext, cp: ControlPlane): Promise<Workload> {
  await startWorkload(t, cp, { service: 'b', app: CHAIN_APP });
  const a = await startWorkload(t, cp, { service: 'a', upstreams: ['b:8080'], app: CHAIN_APP, env: { NEXT_SERVICES: 'b' } });
  await waitFor(
    async () => {
      // Not sampled (flag 00): the warm-up leaves no spans behind.
      const r = await get(`http://127.0.0.1:${a.inboundPort}/`, { headers: { traceparent: `00-${'f'.repeat(32)}-${'e'.repeat(16)}-00` } });
      return r.status === 200 && r.body.calls?.[0]?.status === 200;
    },
    'a -> b answering',
    20_000,
  );
  return a;
}

/** Sends one request through a -> b; its trace id. */
async function request(a: Workload): Promise<string> {
  const r = await get(`http://127.0.0.1:${a.inboundPort}/`);
  assert.equal(r.status, 200);
  return /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(r.body.headers.traceparent)![1]!;
}

/** The three spans of `traceId`: a SERVER -> a CLIENT -> b SERVER, linked, with the request's attributes. */
function assertTrace(spans: ReceivedSpan[], traceId: string, protocol: string): void {
  const trace = spans.filter((s) => s.traceId === traceId);
  assert.equal(trace.length, 3, `three spans: ${JSON.stringify(trace)}`);
  const find = (service: string, kind: number) => {
    const found = trace.filter((s) => s.service === service && s.kind === kind);
    assert.equal(found.length, 1, `one ${kind === SERVER ? 'SERVER' : 'CLIENT'} span of ${service}: ${JSON.stringify(trace)}`);
    return found[0]!;
  };
  const [aServer, aClient, bServer] = [find('a', SERVER), find('a', CLIENT), find('b', SERVER)];
  assert.equal(aServer.parentSpanId, undefined, 'a new trace: the first hop is the root');
  assert.equal(aClient.parentSpanId, aServer.spanId, 'a calls b inside its inbound span');
  assert.equal(bServer.parentSpanId, aClient.spanId, "b's server span is the child of a's client span");
  assert.deepEqual(
    trace.map((s) => s.protocol),
    [protocol, protocol, protocol],
  );
  for (const s of trace) {
    assert.equal(s.attributes['http.request.method'], 'GET');
    assert.equal(s.attributes['http.response.status_code'], 200);
    assert.equal(s.attributes['url.path'], '/');
  }
  assert.deepEqual(
    [aServer, aClient, bServer].map((s) => [s.attributes['trellis.direction'], s.attributes['trellis.destination.service']]),
    [
      ['inbound', 'a.default'],
      ['outbound', 'b.default'],
      ['inbound', 'b.default'],
    ],
  );
  assert.equal(bServer.attributes['trellis.source.service'], 'a.default', "b knows its caller by a's mTLS identity");
  assert.equal(bServer.attributes['trellis.source.authenticated'], true);
}

test('sidecars export over http/protobuf, and over gRPC once the MeshConfig says grpc', { timeout: 180_000 }, async (t) => {
  const collector = await otlpCollector(t, { grpc: true });
  const cp = await startControlPlane(t);
  await applyResources(cp, [permissive(httpService('a')), httpService('b'), meshConfig({ samplingPercent: 100, collector: collector.url, protocol: 'http/protobuf' })]);
  const a = await pair(t, cp);

  const first = await request(a);
  await waitFor(async () => collector.spans.filter((s) => s.traceId === first).length === 3, 'three spans over http/protobuf', 15_000);
  assertTrace(collector.spans, first, 'http/protobuf');

  await applyResources(cp, [meshConfig({ samplingPercent: 100, collector: collector.grpcUrl!, protocol: 'grpc' })]);
  // The new config reaches both sidecars within moments; until then a request may still go out as protobuf.
  let viaGrpc = '';
  await waitFor(
    async () => {
      const id = await request(a);
      await waitFor(async () => collector.spans.filter((s) => s.traceId === id).length === 3, 'the three spans of the request', 15_000);
      if (collector.spans.filter((s) => s.traceId === id).every((s) => s.protocol === 'grpc')) viaGrpc = id;
      return viaGrpc !== '';
    },
    'a request whose spans all came over gRPC',
    30_000,
  );
  assertTrace(collector.spans, viaGrpc, 'grpc');
});

test('the control plane forwards over http/protobuf what its receiver got, and its /v1/traces takes a protobuf body', { timeout: 180_000 }, async (t) => {
  const collector = await otlpCollector(t);
  const cp = await startControlPlane(t, undefined, ['--forward-spans', collector.url, '--forward-spans-protocol', 'http/protobuf']);
  // No collector in the MeshConfig: the sidecars send to the control plane's receiver (http/protobuf by default).
  await applyResources(cp, [permissive(httpService('a')), httpService('b'), meshConfig({ samplingPercent: 100 })]);
  const a = await pair(t, cp);

  const traceId = await request(a);
  await waitFor(async () => collector.spans.filter((s) => s.traceId === traceId).length === 3, 'three forwarded spans', 15_000);
  assertTrace(collector.spans, traceId, 'http/protobuf');
  const held = await get(`${cp.apiUrl}/api/v1/traces/${traceId}`, { headers: { authorization: `Bearer ${cp.token}` } });
  assert.equal(held.status, 200);
  assert.equal(held.body.spans.length, 3, 'the control plane keeps what it forwards');

  // A protobuf body as OpenTelemetry JS's exporter writes it.
  const otherTrace = '0af7651916cd43dd8448eb211c80319c';
  const span = (spanId: string, parent: string | undefined, name: string) => ({
    name,
    kind: 1, // SERVER in the API's numbering
    spanContext: () => ({ traceId: otherTrace, spanId, traceFlags: 1 }),
    parentSpanContext: parent !== undefined ? { traceId: otherTrace, spanId: parent, traceFlags: 1, isRemote: false } : undefined,
    startTime: [1_765_000_000, 0],
    endTime: [1_765_000_000, 5_000_000],
    status: { code: 0 },
    attributes: { 'http.request.method': 'POST' },
    links: [],
    events: [],
    duration: [0, 5_000_000],
    ended: true,
    resource: { attributes: { 'service.name': 'billing' } },
    instrumentationScope: { name: 'billing-app' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  });
  const body = serializeTraceExportRequest([span('b7ad6b7169203331', undefined, 'POST /invoices'), span('c7ad6b7169203331', 'b7ad6b7169203331', 'SELECT invoices')]);
  const res = await fetch(`${cp.apiUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${cp.token}` }, body });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
  const list = await get(`${cp.apiUrl}/api/v1/traces?service=billing`, { headers: { authorization: `Bearer ${cp.token}` } });
  const summary = list.body.items.find((x: { traceId: string }) => x.traceId === otherTrace);
  assert.deepEqual([summary?.rootName, summary?.rootService, summary?.spans, summary?.complete, summary?.durationMs], ['POST /invoices', 'billing', 2, true, 5]);
  const bad = await fetch(`${cp.apiUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${cp.token}` },
    body: Uint8Array.from([0x0a, 0xff, 0x01]),
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /^not an ExportTraceServiceRequest in protobuf: /);
  // The forwarder passes the protobuf body on as well.
  await waitFor(async () => collector.spans.filter((s) => s.traceId === otherTrace).length === 2, 'the posted spans forwarded', 15_000);
});

test('a forwarding protocol that is not one, from the flag or OTEL_EXPORTER_OTLP_*PROTOCOL, is refused naming its source', { timeout: 60_000 }, async () => {
  const start = ['control-plane', '--data-dir', '/nonexistent/trellis-otlp-test', '--api-address', '127.0.0.1:0', '--xds-address', '127.0.0.1:0'];
  const expected = 'is not valid: expected one of http/protobuf, http/json, grpc';
  const flag = await runCli([...start, '--forward-spans', 'http://127.0.0.1:4318', '--forward-spans-protocol', 'zipkin']);
  assert.deepEqual([flag.code, flag.stderr.trim()], [1, `trellis: --forward-spans-protocol=zipkin ${expected}`]);
  const env = await runCli([...start, '--forward-spans', 'http://127.0.0.1:4318'], { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.deepEqual([env.code, env.stderr.trim()], [1, `trellis: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=thrift ${expected}`]);
  const alone = await runCli([...start, '--forward-spans-protocol', 'grpc']);
  assert.deepEqual([alone.code, alone.stderr.trim()], [1, 'trellis: --forward-spans-protocol goes with --forward-spans']);
});
