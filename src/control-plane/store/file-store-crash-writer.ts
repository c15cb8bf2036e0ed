// Test fixture (run as a child by file-store-crash.test.ts): applies batches to the file store in
// `argv[2]` in a loop and prints `ack N` once batch N is acknowledged, until it is killed.
import { openFileStore } from './file-store.js';
import { service } from './test-fixtures.js';

const opened = await openFileStore({ dataDir: process.argv[2]!, snapshotAfterRecords: 20 });
if (!opened.ok) {
  process.stderr.write(`${opened.error.code}: ${opened.error.message}\n`);
  process.exit(2);
}
const store = opened.value;
const counter = await store.get({ kind: 'Service', namespace: 'default', name: 'counter' });
let n = counter.ok ? Number(counter.value.metadata.labels?.n) : 0;
// Some batches are large, so that writes span several pages.
const filler = 'x'.repeat(8_000);
for (;;) {
  n++;
  const s = service(`svc-${n}`, { labels: { batch: String(n) } });
  if (n % 3 === 0) s.metadata.annotations = { filler };
  const r = await store.apply([
    { op: 'put', resource: s },
    { op: 'put', resource: service('counter', { labels: { n: String(n) } }) },
  ]);
  if (!r.ok) {
    process.stderr.write(`${r.error.code}: ${r.error.message}\n`);
    process.exit(3);
  }
  process.stdout.write(`ack ${n}\n`);
}
