// Head sampling below 100 % keeps traces whole (issue 14): at 10 % across a -> b -> c -> d, the
// first proxy's decision reaches every hop (W3C flag, or B3 for a B3 caller), every recorded
// trace has all seven spans under one root, and about one request in ten is recorded.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, get, httpService, permissive, startControlPlane, startWorkload } from './harness.js';
import { otlpCollector, type ReceivedSpan } from './otlp-collector.js';

const CHAIN_APP = [process.execPath, path.join(FIXTURES, 'chain-app.mjs')];
const SERVICES = ['a', 'b', 'c', 'd'];
/** A SERVER span at each of the four services and a CLIENT span at the first three. */
const SPANS_PER_TRACE = 7;
const REQUESTS = 1000;
const CONCURRENCY = 8;

interface Hop {
  service: string;
  headers: Record<string, string>;
  calls: { status: number; body: string }[];
}

/** What each app in the chain saw, from the first to the last (each app answers with its headers and its calls' answers). */
function hops(first: Hop): Hop[] {
  const out = [first];
  while (out.at(-1)!.calls.length > 0) out.push(JSON.parse(out.at(-1)!.calls[0]!.body) as Hop);
  return out;
}

test('at 10 % sampling across four services every recorded trace is whole, about 10 % are recorded, B3 decisions are followed', { timeout: 240_000 }, async (t) => {
  const otlp = await otlpCollector(t);
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    permissive(httpService('a')),
    ...SERVICES.slice(1).map((s) => httpService(s)),
    { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { tracing: { samplingPercent: 10, collector: otlp.url } } },
  ]);
  let a = undefined as unknown as Awaited<ReturnType<typeof startWorkload>>;
  for (let i = SERVICES.length - 1; i >= 0; i--) {
    const next = SERVICES[i + 1];
    const w = await startWorkload(t, cp, { service: SERVICES[i]!, app: CHAIN_APP, ...(next === undefined ? {} : { upstreams: [`${next}:8080`], env: { NEXT_SERVICES: next } }) });
    if (i === 0) a = w;
  }
  const url = `http://127.0.0.1:${a.inboundPort}/`;
  // Warm-up with an explicit "not sampled" so nothing is recorded until every hop has its config.
  await waitFor(
    async () => {
      const r = await get(url, { headers: { traceparent: `00-${'f'.repeat(32)}-${'e'.repeat(16)}-00` } });
      return r.status === 200 && hops(r.body).every((h, i) => i === 3 || h.calls[0]?.status === 200) && hops(r.body).length === 4;
    },
    'a -> b -> c -> d answering',
    30_000,
  );

  // New requests, no trace headers: the first proxy decides, every hop must see its decision.
  const decided = new Map<string, boolean>();
  let sent = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < REQUESTS) {
        sent++;
        const r = await get(url);
        assert.equal(r.status, 200);
        const seen = hops(r.body);
        assert.equal(seen.length, 4, 'the request reached d');
        const first = /^00-([0-9a-f]{32})-[0-9a-f]{16}-(0[01])$/.exec(seen[0]!.headers.traceparent ?? '');
        assert.ok(first, `a's app got a traceparent with a decision: ${seen[0]!.headers.traceparent}`);
        for (const h of seen) assert.match(h.headers.traceparent ?? '', new RegExp(`^00-${first[1]}-[0-9a-f]{16}-${first[2]}$`), `${h.service} got a's trace and decision`);
        decided.set(first[1]!, first[2] === '01');
      }
    }),
  );
  assert.equal(decided.size, REQUESTS, 'one trace per request');
  const sampled = [...decided].filter(([, s]) => s).map(([id]) => id);

  // Binomial(1000, 0.1): mean 100, sd 9.49; 70..130 is ±3.16 sd, outside it with probability about 0.16 %.
  t.diagnostic(`${sampled.length} of ${REQUESTS} requests recorded`);
  assert.ok(sampled.length >= 70 && sampled.length <= 130, `about 10 % recorded: ${sampled.length} of ${REQUESTS}`);

  const byTrace = (): Map<string, ReceivedSpan[]> => {
    const m = new Map<string, ReceivedSpan[]>();
    for (const s of otlp.spans) m.set(s.traceId, [...(m.get(s.traceId) ?? []), s]);
    return m;
  };
  await waitFor(async () => sampled.every((id) => byTrace().get(id)?.length === SPANS_PER_TRACE), 'every sampled trace to reach the collector whole', 30_000).catch((e: Error) => {
    const partial = sampled.filter((id) => byTrace().get(id)?.length !== SPANS_PER_TRACE);
    throw new Error(`${e.message}: ${partial.length} incomplete, e.g. ${JSON.stringify(byTrace().get(partial[0]!))}`);
  });
  const traces = byTrace();
  const unsampledRecorded = [...traces.keys()].filter((id) => decided.get(id) === false);
  assert.deepEqual(unsampledRecorded, [], 'no span of an unsampled request is recorded');
  assert.equal(otlp.spans.length, sampled.length * SPANS_PER_TRACE, 'nothing but the sampled traces, each once');
  for (const id of sampled) {
    const spans = traces.get(id)!;
    const roots = spans.filter((s) => !s.parentSpanId);
    assert.equal(roots.length, 1, `one root in ${id}`);
    assert.equal(roots[0]!.service, 'a');
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans) if (s.parentSpanId) assert.ok(ids.has(s.parentSpanId), `${s.service} span's parent is in the trace`);
    assert.deepEqual([...new Set(spans.map((s) => s.service))].sort(), SERVICES, `${id} has spans at every hop`);
  }

  // A B3 caller: its decision is followed at every hop and every app gets B3 back, both ways.
  for (const flag of ['0', '1']) {
    const traceId = flag === '1' ? '80f198ee56343ba864fe8b2a57d3eff7' : '90f198ee56343ba864fe8b2a57d3eff7';
    const r = await get(url, { headers: { 'x-b3-traceid': traceId, 'x-b3-spanid': 'e457b5a2e4d86bd1', 'x-b3-sampled': flag } });
    for (const h of hops(r.body)) {
      assert.equal(h.headers['x-b3-traceid'], traceId, `${h.service} got B3`);
      assert.equal(h.headers['x-b3-sampled'], flag, `${h.service} got the caller's decision`);
    }
    const single = await get(url, { headers: { b3: flag } });
    for (const h of hops(single.body))
      assert.match(h.headers.b3 ?? '', new RegExp(`^[0-9a-f]{32}-[0-9a-f]{16}-${flag}(-[0-9a-f]{16})?$`), `${h.service} got single-header B3 with the decision`);
    const singleTrace = hops(single.body)[0]!.headers.b3!.slice(0, 32);
    if (flag === '1') {
      for (const id of [traceId, singleTrace])
        await waitFor(async () => byTrace().get(id)?.length === SPANS_PER_TRACE, `the sampled B3 trace ${id} whole at the collector`, 15_000);
    } else {
      // The sampled trace sent after these waits for them to be flushed too (one exporter queue per proxy).
      const later = await get(url, { headers: { b3: '1' } });
      const laterId = hops(later.body)[0]!.headers.b3!.slice(0, 32);
      await waitFor(async () => byTrace().get(laterId)?.length === SPANS_PER_TRACE, 'a later sampled B3 trace whole', 15_000);
      assert.equal(byTrace().get(traceId), undefined, 'B3 x-b3-sampled: 0 is not recorded');
      assert.equal(byTrace().get(singleTrace), undefined, 'b3: 0 is not recorded');
    }
  }
});
