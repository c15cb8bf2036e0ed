// The OTLP receiver's decoding and the span store: valid requests kept by trace, bad ones
// refused with the path, old traces evicted, summaries with the root span.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeOtlpJson } from './otlp-decode.js';
import { SpanStore } from './span-store.js';
import { parseWindow } from './telemetry-api.js';

const T = 'a'.repeat(32);
const span = (id: string, parent: string | undefined, start: number, end: number, extra: object = {}) => ({
  traceId: T,
  spanId: id,
  ...(parent ? { parentSpanId: parent } : {}),
  name: `s${id[0]}`,
  kind: 2,
  startTimeUnixNano: String(start * 1_000_000),
  endTimeUnixNano: String(end * 1_000_000),
  attributes: [{ key: 'http.response.status_code', value: { intValue: '200' } }],
  status: {},
  ...extra,
});
const body = (spans: object[], service = 'web') => ({
  resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans }] }],
});

test('a valid request gives its spans with the resource service and milliseconds', () => {
  const r = decodeOtlpJson(body([span('1'.repeat(16), undefined, 1000, 1010)]));
  assert.ok(r.ok);
  assert.deepEqual(r.value[0], {
    traceId: T,
    spanId: '1'.repeat(16),
    name: 's1',
    kind: 2,
    service: 'web',
    startUnixMs: 1000,
    endUnixMs: 1010,
    statusCode: 0,
    attributes: { 'http.response.status_code': 200 },
  });
});

test('bad ids and times are refused with their path', () => {
  const r = decodeOtlpJson(body([span('xyz', undefined, 1, 2), { ...span('2'.repeat(16), undefined, 1, 2), startTimeUnixNano: 'soon' }]));
  assert.ok(!r.ok);
  assert.deepEqual(r.error, [
    'resourceSpans[0].scopeSpans[0].spans[0].spanId: must be 16 hex digits, got "xyz"',
    'resourceSpans[0].scopeSpans[0].spans[1].startTimeUnixNano: must be nanoseconds, got "soon"',
  ]);
  assert.deepEqual((decodeOtlpJson({}) as { error: string[] }).error, ['resourceSpans: required, a list']);
});

test('the store groups by trace, summarises with the root, and evicts the oldest traces', () => {
  const store = new SpanStore(2);
  const r = decodeOtlpJson(body([span('1'.repeat(16), undefined, 1000, 1050), span('2'.repeat(16), '1'.repeat(16), 1010, 1040, { status: { code: 2 } })]));
  assert.ok(r.ok);
  store.add(r.value);
  const [summary] = store.list(10);
  assert.deepEqual(summary, {
    traceId: T,
    rootName: 's1',
    rootService: 'web',
    startUnixMs: 1000,
    durationMs: 50,
    spans: 2,
    errors: 1,
    services: ['web'],
    roots: 1,
    complete: true,
  });
  assert.equal(store.trace(T)!.length, 2);
  store.add([{ ...r.value[0]!, traceId: 'b'.repeat(32) }]);
  store.add([{ ...r.value[0]!, traceId: 'c'.repeat(32) }]);
  assert.equal(store.trace(T), undefined, 'the oldest trace was evicted');
  assert.deepEqual(
    store.list(10).map((s) => s.traceId[0]),
    ['c', 'b'],
  );
  assert.deepEqual(store.list(10, 'other'), []);
});

test('a trace is complete once its spans form one tree: a child before its parent is two roots until the parent arrives', () => {
  const store = new SpanStore();
  const leaf = decodeOtlpJson(body([span('3'.repeat(16), '2'.repeat(16), 1020, 1030)]));
  const rest = decodeOtlpJson(body([span('1'.repeat(16), undefined, 1000, 1050), span('2'.repeat(16), '1'.repeat(16), 1010, 1040)]));
  assert.ok(leaf.ok && rest.ok);
  store.add(leaf.value);
  store.add([rest.value[0]!]);
  assert.deepEqual([store.summary(T)?.roots, store.summary(T)?.complete, store.list(1)[0]?.complete], [2, false, false]);
  store.add([rest.value[1]!]);
  assert.deepEqual([store.summary(T)?.roots, store.summary(T)?.complete, store.summary(T)?.rootName], [1, true, 's1']);
  assert.equal(store.summary('f'.repeat(32)), undefined);
});

test('windows: seconds or minutes within what is kept', () => {
  assert.deepEqual(parseWindow('30s', 600, 60), { ok: true, value: 30 });
  assert.deepEqual(parseWindow('5m', 600, 60), { ok: true, value: 300 });
  assert.deepEqual(parseWindow(null, 600, 60), { ok: true, value: 60 });
  assert.match((parseWindow('20m', 600, 60) as { error: string }).error, /window=20m is not valid/);
  assert.equal(parseWindow('abc', 600, 60).ok, false);
});
