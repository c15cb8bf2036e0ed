// Trace context parsing and writing: W3C traceparent (valid, invalid, future versions), B3
// single and multi headers, and the headers written for the next hop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newSpanId, newTraceId } from './ids.js';
import { parseB3Multi, parseB3Single, parseTraceparent, readTraceContext, TraceFormat, traceHeaders } from './trace-context.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';

test('a valid traceparent is read with its sampled flag and tracestate', () => {
  assert.deepEqual(parseTraceparent(`00-${TID}-${SID}-01`, 'a=1'), { traceId: TID, parentSpanId: SID, sampled: true, format: TraceFormat.W3C, traceState: 'a=1' });
  assert.equal(parseTraceparent(`00-${TID}-${SID}-00`, undefined)?.sampled, false);
  assert.equal(parseTraceparent(`00-${TID.toUpperCase()}-${SID}-03`, undefined)?.traceId, TID, 'upper-case hex is accepted and lowered');
});

test('invalid traceparents are ignored', () => {
  for (const bad of [
    `00-${'0'.repeat(32)}-${SID}-01`, // all-zero trace id
    `00-${TID}-${'0'.repeat(16)}-01`, // all-zero parent id
    `ff-${TID}-${SID}-01`, // version ff is forbidden
    `00-${TID}-${SID}-01-extra`, // version 00 has exactly four fields
    `00-${TID.slice(1)}-${SID}-01`,
    `00-${TID}-${SID}-0g`,
    'garbage',
  ])
    assert.equal(parseTraceparent(bad, undefined), undefined, bad);
});

test('a future traceparent version is read as version 00', () => {
  assert.equal(parseTraceparent(`01-${TID}-${SID}-01-more`, undefined)?.traceId, TID);
});

test('B3 single: ids, sampling, 64-bit trace ids padded', () => {
  assert.deepEqual(parseB3Single(`${TID}-${SID}-1-${'1'.repeat(16)}`), { traceId: TID, parentSpanId: SID, sampled: true, format: TraceFormat.B3Single, traceState: undefined });
  assert.equal(parseB3Single(`${TID}-${SID}`)?.sampled, undefined, 'no flag: the decision is ours');
  assert.equal(parseB3Single(`${TID}-${SID}-d`)?.sampled, true, 'debug implies sampled');
  assert.equal(parseB3Single(`a3ce929d0e0e4736-${SID}-0`)?.traceId, '0000000000000000a3ce929d0e0e4736');
  assert.deepEqual(
    parseB3Single('0'),
    { traceId: undefined, parentSpanId: undefined, sampled: false, format: TraceFormat.B3Single, traceState: undefined },
    'a lone flag: a decision without ids',
  );
  assert.equal(parseB3Single('d')?.sampled, true);
  assert.equal(parseB3Single('x'), undefined);
});

test('B3 multi headers, x-b3-flags 1 forces sampling', () => {
  assert.equal(parseB3Multi(TID, SID, '1', undefined)?.sampled, true);
  assert.equal(parseB3Multi(TID, SID, '0', '1')?.sampled, true);
  assert.equal(parseB3Multi(TID, undefined, '1', undefined), undefined);
});

test('x-b3-sampled or x-b3-flags without ids is a decision; without either, nothing', () => {
  const read = (headers: Record<string, string>) => readTraceContext({ header: (n) => headers[n] });
  assert.deepEqual(read({ 'x-b3-sampled': '0' }), { traceId: undefined, parentSpanId: undefined, sampled: false, format: TraceFormat.B3Multi, traceState: undefined });
  assert.equal(read({ 'x-b3-flags': '1' })?.sampled, true);
  assert.equal(read({ 'x-b3-sampled': 'maybe' }), undefined);
  assert.equal(read({}), undefined);
});

test('traceparent wins over b3 when both are present and valid; B3 beside it is still answered in B3', () => {
  const headers: Record<string, string> = { traceparent: `00-${TID}-${SID}-01`, b3: `${'a'.repeat(32)}-${'b'.repeat(16)}-1` };
  const both = readTraceContext({ header: (n) => headers[n] });
  assert.deepEqual([both?.traceId, both?.format], [TID, TraceFormat.B3Single], "the ids are traceparent's; B3 is answered too");
  delete headers.traceparent;
  assert.equal(readTraceContext({ header: (n) => headers[n] })?.format, TraceFormat.B3Single);
  assert.equal(readTraceContext({ header: (n) => ({ traceparent: `00-${TID}-${SID}-01` })[n] })?.format, TraceFormat.W3C);
});

test('the next hop gets traceparent, and B3 in the format the request came with', () => {
  assert.deepEqual(traceHeaders(TID, SID, undefined, true, TraceFormat.None), ['traceparent', `00-${TID}-${SID}-01`]);
  assert.deepEqual(traceHeaders(TID, SID, 'p'.repeat(16), false, TraceFormat.B3Single), ['traceparent', `00-${TID}-${SID}-00`, 'b3', `${TID}-${SID}-0-${'p'.repeat(16)}`]);
  assert.deepEqual(traceHeaders(TID, SID, undefined, true, TraceFormat.B3Multi), [
    'traceparent',
    `00-${TID}-${SID}-01`,
    'x-b3-traceid',
    TID,
    'x-b3-spanid',
    SID,
    'x-b3-sampled',
    '1',
  ]);
});

test('new ids are lower-case hex of the right length and differ', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const t = newTraceId();
    const s = newSpanId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(s, /^[0-9a-f]{16}$/);
    ids.add(t);
  }
  assert.equal(ids.size, 2000);
});
