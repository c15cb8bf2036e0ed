// A request through three services (a -> b -> c) yields one trace whose spans link up across
// hops, checked from what an OTLP receiver got: the test's own collector named in MeshConfig,
// and, without one, the control plane's receiver. B3 from the client is continued too.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, get, httpService, permissive, startControlPlane, startWorkload, type ControlPlane, type Workload } from './harness.js';
import { otlpCollector, type ReceivedSpan } from './otlp-collector.js';

const meshConfig = (tracing: object) => ({ apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { tracing } });
const CHAIN_APP = [process.execPath, path.join(FIXTURES, 'chain-app.mjs')];

/** c; b calling c; a calling b. Answers a, whose inbound port the test calls (a is PERMISSIVE: the test is a client outside the mesh). */
async function chain(t: TestContext, cp: ControlPlane): Promise<Workload> {
  await startWorkload(t, cp, { service: 'c', app: CHAIN_APP });
  await startWorkload(t, cp, { service: 'b', upstreams: ['c:8080'], app: CHAIN_APP, env: { NEXT_SERVICES: 'c' } });
  const a = await startWorkload(t, cp, { service: 'a', upstreams: ['b:8080'], app: CHAIN_APP, env: { NEXT_SERVICES: 'b' } });
  // Until every hop has its config, the chain answers an error somewhere; wait until c answers through both.
  await waitFor(
    async () => {
      const r = await get(`http://127.0.0.1:${a.inboundPort}/`, { headers: { traceparent: `00-${'f'.repeat(32)}-${'e'.repeat(16)}-00` } });
      return r.status === 200 && r.body.calls?.[0]?.status === 200 && JSON.parse(r.body.calls[0].body).calls?.[0]?.status === 200;
    },
    'a -> b -> c answering',
    20_000,
  );
  return a;
}

/** Checks the five spans of one trace: a SERVER -> a CLIENT -> b SERVER -> b CLIENT -> c SERVER. */
function assertChain(all: ReceivedSpan[], traceId: string, rootParent: string | undefined): void {
  const trace = all.filter((s) => s.traceId === traceId);
  assert.equal(trace.length, 5, `five spans in the trace: ${JSON.stringify(trace)}`);
  const find = (service: string, kind: number) => {
    const found = trace.filter((s) => s.service === service && s.kind === kind);
    assert.equal(found.length, 1, `one ${kind === 2 ? 'SERVER' : 'CLIENT'} span of ${service} in ${JSON.stringify(trace)}`);
    return found[0]!;
  };
  const aServer = find('a', 2);
  const aClient = find('a', 3);
  const bServer = find('b', 2);
  const bClient = find('b', 3);
  const cServer = find('c', 2);
  assert.equal(aServer.parentSpanId || undefined, rootParent, 'the first hop continues the caller, or is the root');
  assert.equal(aClient.parentSpanId, aServer.spanId, 'a calls b inside its inbound span');
  assert.equal(bServer.parentSpanId, aClient.spanId, "b's server span is the child of a's client span");
  assert.equal(bClient.parentSpanId, bServer.spanId);
  assert.equal(cServer.parentSpanId, bClient.spanId);
  assert.equal(new Set(trace.map((s) => s.spanId)).size, 5, 'every hop has its own span id');
}

test('one request through a -> b -> c is one trace with the right parent/child links; B3 is continued', { timeout: 120_000 }, async (t) => {
  const otlp = await otlpCollector(t);
  const cp = await startControlPlane(t);
  await applyResources(cp, [permissive(httpService('a')), httpService('b'), httpService('c'), meshConfig({ samplingPercent: 100, collector: otlp.url })]);
  const a = await chain(t, cp);

  // A new trace: the first proxy starts it.
  const r = await get(`http://127.0.0.1:${a.inboundPort}/`);
  assert.equal(r.status, 200);
  const m = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(r.body.headers.traceparent);
  assert.ok(m, `a's app got a traceparent: ${r.body.headers.traceparent}`);
  const traceId = m[1]!;
  await waitFor(async () => otlp.spans.filter((s) => s.traceId === traceId).length === 5, 'five spans at the collector', 15_000).catch((e: Error) => {
    throw new Error(`${e.message}; got ${JSON.stringify(otlp.spans.filter((s) => s.traceId === traceId))}`);
  });
  assertChain(otlp.spans, traceId, undefined);

  // A client that speaks B3 (single header): the trace and its parent are the client's.
  const b3Trace = '80f198ee56343ba864fe8b2a57d3eff7';
  const b3Parent = 'e457b5a2e4d86bd1';
  const r2 = await get(`http://127.0.0.1:${a.inboundPort}/`, { headers: { b3: `${b3Trace}-${b3Parent}-1` } });
  assert.equal(r2.status, 200);
  assert.match(r2.body.headers.b3, new RegExp(`^${b3Trace}-[0-9a-f]{16}-1-${b3Parent}$`), 'the app got B3 back, with this hop as the span');
  await waitFor(async () => otlp.spans.filter((s) => s.traceId === b3Trace).length === 5, 'five spans of the B3 trace', 15_000);
  assertChain(otlp.spans, b3Trace, b3Parent);
});

test('without a collector in MeshConfig the control plane receives the spans and serves the trace', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [permissive(httpService('a')), httpService('b'), httpService('c'), meshConfig({ samplingPercent: 100 })]);
  const a = await chain(t, cp);
  const r = await get(`http://127.0.0.1:${a.inboundPort}/`);
  const traceId = /^00-([0-9a-f]{32})-/.exec(r.body.headers.traceparent)![1]!;
  let spans: ReceivedSpan[] = [];
  await waitFor(
    async () => {
      const res = await get(`${cp.apiUrl}/api/v1/traces/${traceId}`, { headers: { authorization: `Bearer ${cp.token}` } });
      spans = res.status === 200 ? res.body.spans : [];
      return spans.length === 5;
    },
    'the control plane to hold the five spans',
    15_000,
  );
  assertChain(spans, traceId, undefined);
  const list = await get(`${cp.apiUrl}/api/v1/traces?service=b`, { headers: { authorization: `Bearer ${cp.token}` } });
  const summary = list.body.items.find((x: { traceId: string }) => x.traceId === traceId);
  assert.equal(summary.rootService, 'a');
  assert.equal(summary.spans, 5);
  assert.deepEqual([...summary.services].sort(), ['a', 'b', 'c']);
});
