// The operator's tools on a data dir: verify (changes nothing), backup files, restore (never over
// a store without force, never deleting), repair (only the log, after copying it aside).
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { readBackupFile, restoreBackup, writeBackupFile } from './backup.js';
import { LOG_FILE } from './batch-log.js';
import { openFileStore } from './file-store.js';
import { encodeFrame } from './log-frame.js';
import { truncateLogAtCorruption } from './repair.js';
import { SNAPSHOT_FILE } from './snapshot.js';
import { service } from './test-fixtures.js';
import { verifyStore } from './verify.js';

const quiet = pino({ level: 'silent' });

async function tempDir(t: TestContext): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'trellis-store-tools-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A data dir holding `n` batches in its log (and a snapshot of the first `snapshotAt`, if given). */
async function dataDir(t: TestContext, n: number, snapshotAt?: number): Promise<{ dir: string; logFile: string }> {
  const dir = await tempDir(t);
  const opened = await openFileStore({ dataDir: dir, snapshotOnClose: false, logger: quiet, ...(snapshotAt ? { snapshotAfterRecords: snapshotAt } : {}) });
  assert.ok(opened.ok);
  for (let i = 1; i <= n; i++) assert.ok((await opened.value.apply([{ op: 'put', resource: service(`s${i}`) }])).ok);
  await opened.value.close();
  return { dir, logFile: path.join(dir, LOG_FILE) };
}

const starts = (log: Buffer) => {
  const out: number[] = [];
  for (let at = 0; at + 12 <= log.length; at += 12 + log.readUInt32LE(at + 4)) out.push(at);
  return out;
};

test('verify reports the revision, records and resources of a sound store, and a torn tail as a note', async (t) => {
  const { dir, logFile } = await dataDir(t, 5, 3);
  assert.deepEqual(await verifyStore(dir), { ok: true, revision: 5, snapshotRevision: 3, logRecords: 2, resources: 5, problems: [], recordsAfterDamage: 0 });
  const size = (await fsp.stat(logFile)).size;
  await fsp.appendFile(logFile, encodeFrame(Buffer.from('{"revision":6}')).subarray(0, 9));
  const torn = await verifyStore(dir);
  assert.equal(torn.ok, true);
  assert.deepEqual(torn.tornTail, { file: logFile, offset: size, bytes: 9, reason: 'an incomplete record header (9 of 12 bytes)' });
  assert.equal((await fsp.stat(logFile)).size, size + 9, 'verify cut the torn tail');
});

test('verify lists each damaged region of the log with its offset and counts the intact records after the first', async (t) => {
  const { dir, logFile } = await dataDir(t, 6);
  const log = await fsp.readFile(logFile);
  const [, second, , fourth] = starts(log);
  log[second! + 20]! ^= 0x01;
  log[fourth! + 20]! ^= 0x01;
  await fsp.writeFile(logFile, log);
  const r = await verifyStore(dir);
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.problems.map((p) => p.offset),
    [second, fourth],
  );
  assert.match(r.problems[0]!.message, new RegExp(`batches\\.log is damaged \\(at byte ${second}, record 2, revision 2\\)`));
  assert.match(r.problems[1]!.message, /more damage: a damaged record followed by an intact one/);
  assert.equal(r.recordsAfterDamage, 3);
  assert.ok((await fsp.readFile(logFile)).equals(log));
});

test('verify reports a damaged snapshot with its offset', async (t) => {
  const { dir } = await dataDir(t, 4, 2);
  const snap = path.join(dir, SNAPSHOT_FILE);
  const data = await fsp.readFile(snap);
  data[40]! ^= 0x01;
  await fsp.writeFile(snap, data);
  const r = await verifyStore(dir);
  assert.equal(r.ok, false);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.file, snap);
  assert.equal(r.problems[0]!.offset, 0);
});

test('a backup file round-trips; a damaged one is refused by restore, which then changes nothing', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'b.backup');
  const data = { revision: 7, resources: [service('a')] };
  assert.ok((await writeBackupFile(file, data)).ok);
  assert.deepEqual(await readBackupFile(file), { ok: true, value: data });
  const again = await writeBackupFile(file, data);
  assert.ok(!again.ok && /exists \(give --force/.test(again.error.message));
  const bytes = await fsp.readFile(file);
  bytes[bytes.length - 5]! ^= 0x01;
  await fsp.writeFile(file, bytes);
  const target = path.join(dir, 'data');
  const r = await restoreBackup({ from: file, dataDir: target, logger: quiet });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_CORRUPT');
  assert.match(r.error.message, /b\.backup is damaged \(at byte 0\)/);
  await assert.rejects(fsp.access(target), 'restore created the data dir for a damaged backup');
});

test('restore refuses a data dir holding a store without force; with force it moves those files aside and the store opens at the backup', async (t) => {
  const { dir, logFile } = await dataDir(t, 3);
  const file = path.join(dir, '..', `${path.basename(dir)}.backup`);
  t.after(() => fsp.rm(file, { force: true }));
  assert.ok((await writeBackupFile(file, { revision: 9, resources: [service('from-backup')] })).ok);
  const log = await fsp.readFile(logFile);
  const refused = await restoreBackup({ from: file, dataDir: dir, logger: quiet });
  assert.ok(!refused.ok && refused.error.code === 'STORE_NOT_EMPTY', !refused.ok ? refused.error.message : '');
  assert.ok((await fsp.readFile(logFile)).equals(log));
  const r = await restoreBackup({ from: file, dataDir: dir, force: true, logger: quiet });
  assert.ok(r.ok);
  assert.ok((await fsp.readFile(path.join(r.value.movedAside!, LOG_FILE))).equals(log));
  const opened = await openFileStore({ dataDir: dir, logger: quiet });
  assert.ok(opened.ok);
  assert.equal(opened.value.revision(), 9);
  assert.deepEqual(
    (await opened.value.list()).items.map((s) => s.metadata.name),
    ['from-backup'],
  );
  // A store in use is not restored over, even with force.
  const busy = await restoreBackup({ from: file, dataDir: dir, force: true, logger: quiet });
  assert.ok(!busy.ok && busy.error.code === 'STORE_LOCKED');
  await opened.value.close();
});

test('repair leaves a sound log alone, and cuts a log at a missing revision after copying it aside', async (t) => {
  const { dir, logFile } = await dataDir(t, 2);
  assert.deepEqual(await truncateLogAtCorruption(dir, quiet), { ok: true, value: { repaired: false, revision: 2 } });
  const rec = (revision: number) => encodeFrame(Buffer.from(JSON.stringify({ revision, time: '2026-01-01T00:00:00Z', ops: [] })));
  const good = await fsp.readFile(logFile);
  await fsp.writeFile(logFile, Buffer.concat([good, rec(4), rec(5)]));
  const r = await truncateLogAtCorruption(dir, quiet);
  assert.ok(r.ok && r.value.repaired);
  assert.equal(r.value.cutAt, good.length);
  assert.equal(r.value.revision, 2);
  assert.ok((await fsp.readFile(logFile)).equals(good));
  assert.equal((await fsp.readFile(r.value.copy!)).length, good.length + rec(4).length * 2);
  assert.equal((await verifyStore(dir)).revision, 2);
});

test('repair refuses a damaged snapshot (only a restore helps) and a store in use', async (t) => {
  const { dir } = await dataDir(t, 4, 2);
  const opened = await openFileStore({ dataDir: dir, logger: quiet });
  assert.ok(opened.ok);
  const busy = await truncateLogAtCorruption(dir, quiet);
  assert.ok(!busy.ok && busy.error.code === 'STORE_LOCKED');
  await opened.value.close();
  const snap = path.join(dir, SNAPSHOT_FILE);
  const data = await fsp.readFile(snap);
  data[30]! ^= 0x01;
  await fsp.writeFile(snap, data);
  const r = await truncateLogAtCorruption(dir, quiet);
  assert.ok(!r.ok && r.error.code === 'STORE_CORRUPT');
  assert.match(r.error.message, /snapshot\.trellis is damaged .*trellis store restore/);
  assert.doesNotMatch(r.error.message, /trellis store repair/);
});
