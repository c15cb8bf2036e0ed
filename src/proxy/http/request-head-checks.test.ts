import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestHeadProblem } from './request-head-checks.js';

const fields = (n: number): string[] => Array.from({ length: n }, (_, i) => [`x-${i}`, '1']).flat();

test('a head with at most the allowed fields passes; one more is 431 REQUEST_HEADERS_TOO_LARGE naming both counts', () => {
  assert.equal(requestHeadProblem(['Host', 'a', ...fields(99)], 100), undefined);
  const e = requestHeadProblem(['Host', 'a', ...fields(100)], 100);
  assert.equal(e?.status, 431);
  assert.equal(e?.code, 'REQUEST_HEADERS_TOO_LARGE');
  assert.match(e.message, /101 header fields, at most 100/);
});

test('HTTP/2 pseudo-headers do not count as fields', () => {
  assert.equal(requestHeadProblem([':method', 'GET', ':path', '/', ':scheme', 'http', ':authority', 'a', ...fields(100)], 100), undefined);
});

test('two Host fields, in any case, are 400 BAD_REQUEST', () => {
  for (const raw of [
    ['Host', 'a', 'Host', 'b'],
    ['host', 'a', 'x', '1', 'HOST', 'a'],
  ]) {
    const e = requestHeadProblem(raw, 100);
    assert.equal(e?.status, 400, JSON.stringify(raw));
    assert.equal(e?.code, 'BAD_REQUEST');
    assert.match(e.message, /2 Host header fields/);
  }
  assert.equal(requestHeadProblem(['Host', 'a', 'x-host', 'b'], 100), undefined);
});
