// Tap filters: parsing query parameters (unknown ones refused) and matching events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTapFilter, tapMatches, type TapEvent } from './tap-hub.js';

const event: TapEvent = {
  time: '',
  direction: 'inbound',
  method: 'GET',
  authority: 'x',
  path: '/api/items',
  status: 503,
  durationMs: 1,
  requestBytes: 0,
  responseBytes: 0,
  sourceService: 'web.default',
  sourceWorkload: 'web-v1',
  service: 'reviews.default',
  route: '',
};

test('filters match by service (either side, with or without namespace), path prefix, method and status class', () => {
  assert.ok(tapMatches({}, event));
  assert.ok(tapMatches({ service: 'reviews' }, event));
  assert.ok(tapMatches({ service: 'web.default' }, event));
  assert.ok(!tapMatches({ service: 'rev' }, event));
  assert.ok(tapMatches({ path: '/api' }, event));
  assert.ok(!tapMatches({ path: '/other' }, event));
  assert.ok(tapMatches({ method: 'GET', status: '5xx' }, event));
  assert.ok(tapMatches({ status: '503' }, event));
  assert.ok(!tapMatches({ status: '4xx' }, event));
});

test('parsing: method upper-cased, bad status and unknown parameters refused by name', () => {
  assert.deepEqual(parseTapFilter(new URLSearchParams('method=get&path=/a')), { ok: true, value: { method: 'GET', path: '/a' } });
  const bad = parseTapFilter(new URLSearchParams('status=5x'));
  assert.equal(bad.ok, false);
  assert.match((bad as { error: string }).error, /status=5x is not valid/);
  assert.match((parseTapFilter(new URLSearchParams('body=1')) as { error: string }).error, /unknown tap filter body/);
});
