// Store write latency as the REST API sees it: only batches that committed something are timed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryStore } from '../store/memory-store.js';
import { service } from '../store/test-fixtures.js';
import { withWriteTiming } from './store-write-timing.js';

test('a committed batch is timed; dry runs, unchanged batches and refused ones are not', async () => {
  const seen: number[] = [];
  const store = withWriteTiming(createMemoryStore(), (s) => seen.push(s));
  assert.ok((await store.apply([{ op: 'put', resource: service('a') }], { dryRun: true })).ok);
  assert.equal(seen.length, 0, 'dry run');
  assert.ok((await store.apply([{ op: 'put', resource: service('a') }])).ok);
  assert.equal(seen.length, 1, 'committed');
  assert.ok(seen[0]! >= 0 && seen[0]! < 5, `seconds: ${seen[0]}`);
  assert.ok((await store.apply([{ op: 'put', resource: service('a') }])).ok);
  assert.equal(seen.length, 1, 'unchanged: nothing written');
  assert.equal((await store.apply([{ op: 'put', resource: service('a'), mode: 'create' }])).ok, false);
  assert.equal(seen.length, 1, 'refused');
  assert.equal(store.revision(), 1);
  assert.equal((await store.list()).items.length, 1, 'reads go to the store');
});
