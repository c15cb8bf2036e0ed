// The file store: durable across reopen, torn tails dropped, snapshot + log recovery, one owner per data dir.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import type { Resource } from '../../api/resource.js';
import { LOG_FILE } from './batch-log.js';
import { openFileStore, type FileStore, type FileStoreOptions } from './file-store.js';
import { LOCK_FILE } from './lock-file.js';
import { encodeFrame } from './log-frame.js';
import { SNAPSHOT_FILE } from './snapshot.js';
import type { Change } from './store.js';
import { httpRoute, meshConfig, service } from './test-fixtures.js';

/** Stores opened by each test, closed before its directory is removed (after-hooks run in registration order). */
const opened = new WeakMap<TestContext, FileStore[]>();

async function tempDir(t: TestContext): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'trellis-store-'));
  const stores: FileStore[] = [];
  opened.set(t, stores);
  t.after(async () => {
    for (const s of stores) await s.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });
  return dir;
}

async function open(t: TestContext, dataDir: string, opts: Partial<FileStoreOptions> = {}): Promise<FileStore> {
  const r = await openFileStore({ dataDir, ...opts });
  assert.ok(r.ok, `open failed: ${!r.ok && r.error.message}`);
  opened.get(t)!.push(r.value);
  return r.value;
}

async function applyOk(store: FileStore, changes: Change[]): Promise<number> {
  const r = await store.apply(changes);
  assert.ok(r.ok, `apply failed: ${!r.ok && r.error.message}`);
  return r.value.revision;
}

/** A logger that keeps its messages, to check warnings (and keep test output clean). */
function capturingLogger() {
  const messages: string[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        messages.push(JSON.parse(line).msg as string);
      },
    },
  );
  return { logger, messages };
}

const put = (resource: Resource): Change => ({ op: 'put', resource });
const names = async (store: FileStore) => (await store.list()).items.map((r) => `${r.kind}/${r.metadata.name}@${r.metadata.resourceVersion}`);

test('resources, versions and the revision survive close and reopen', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir);
  await applyOk(first, [put(service('a')), put(meshConfig())]);
  await applyOk(first, [put(httpRoute('r', 'a', [{ name: 'a', weight: 1 }])), { op: 'delete', key: { kind: 'MeshConfig', name: 'default' } }]);
  const before = (await first.list()).items;
  await first.close();
  const second = await open(t, dir);
  assert.equal(second.revision(), 2);
  assert.deepEqual((await second.list()).items, before);
  assert.equal(await applyOk(second, [put(service('b'))]), 3);
});

test('batches survive an unclean stop: the log is replayed on open', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir, { snapshotOnClose: false });
  for (const n of ['a', 'b', 'c']) await applyOk(first, [put(service(n))]);
  await first.close();
  const second = await open(t, dir);
  assert.deepEqual(second.recovery, { snapshotRevision: 0, replayedRecords: 3, droppedTailBytes: 0 });
  assert.deepEqual(await names(second), ['Service/a@1', 'Service/b@2', 'Service/c@3']);
});

/** Where each record of a log starts (walking the length fields; the log must be intact up to the last). */
function recordStarts(log: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 0; at + 12 <= log.length; at += 12 + log.readUInt32LE(at + 4)) starts.push(at);
  return starts;
}

/** A data dir whose log holds `n` batches (one Service each), and the log's path and bytes. */
async function logOf(t: TestContext, n: number): Promise<{ dir: string; logFile: string; log: Buffer }> {
  const dir = await tempDir(t);
  const first = await open(t, dir, { snapshotOnClose: false });
  for (let i = 1; i <= n; i++) await applyOk(first, [put(service(`s${i}`))]);
  await first.close();
  const logFile = path.join(dir, LOG_FILE);
  return { dir, logFile, log: await fsp.readFile(logFile) };
}

/** Opens `dir`, expecting STORE_CORRUPT; checks the message names the file and `where`, the file is unchanged and the lock released. */
async function expectCorrupt(dir: string, logFile: string, where: RegExp): Promise<{ message: string; offset?: number }> {
  const before = await fsp.readFile(logFile);
  const { logger, messages } = capturingLogger();
  const r = await openFileStore({ dataDir: dir, logger });
  if (r.ok) await r.value.close();
  assert.ok(!r.ok, `the store opened at revision ${r.ok && r.value.revision()}, after logging: ${messages.join(' | ')}`);
  assert.equal(r.error.code, 'STORE_CORRUPT', r.error.message);
  assert.ok(r.error.message.includes(logFile), r.error.message);
  assert.match(r.error.message, where);
  assert.match(r.error.message, /trellis store verify --data-dir .*trellis store restore .*trellis store repair --truncate-at-corruption/);
  assert.ok((await fsp.readFile(logFile)).equals(before), 'the log was changed on disk');
  await assert.rejects(fsp.access(path.join(dir, LOCK_FILE)), 'the lock was not released');
  return { message: r.error.message, ...((r.error as { offset?: number }).offset !== undefined ? { offset: (r.error as { offset?: number }).offset } : {}) };
}

test('a byte flipped in a record in the middle of the log is STORE_CORRUPT at its offset, and the file is left byte for byte', async (t) => {
  const { dir, logFile, log } = await logOf(t, 5);
  const third = recordStarts(log)[2]!;
  log[third + 30]! ^= 0x01;
  await fsp.writeFile(logFile, log);
  const e = await expectCorrupt(dir, logFile, new RegExp(`at byte ${third}, record 3, revision 3\\b`));
  assert.equal(e.offset, third);
  assert.match(e.message, /followed by an intact one/);
});

test('a damaged first record followed by good ones is STORE_CORRUPT, not an empty store', async (t) => {
  const { dir, logFile, log } = await logOf(t, 3);
  log[20]! ^= 0x40;
  await fsp.writeFile(logFile, log);
  await expectCorrupt(dir, logFile, /at byte 0, record 1\b/);
});

test('a damaged marker or length in the middle of the log is STORE_CORRUPT, not a torn tail', async (t) => {
  const { dir, logFile, log } = await logOf(t, 4);
  const second = recordStarts(log)[1]!;
  const marker = Buffer.from(log);
  marker[second]! ^= 0x01;
  await fsp.writeFile(logFile, marker);
  await expectCorrupt(dir, logFile, new RegExp(`at byte ${second}, record 2`));
  // A length that points past the end of the file looks like an unfinished write, but intact records follow.
  const length = Buffer.from(log);
  length.writeUInt32LE(log.length, second + 4);
  await fsp.writeFile(logFile, length);
  await expectCorrupt(dir, logFile, new RegExp(`at byte ${second}, record 2`));
});

for (const [what, damage] of [
  [
    'a byte flipped in the last record',
    (log: Buffer) => {
      log[log.length - 2]! ^= 0xff;
      return log;
    },
  ],
  ['garbage after the last record', (log: Buffer) => Buffer.concat([log, Buffer.from('this is not a frame at all \x00\x01\x02')])],
  [
    'a damaged length field in the last record',
    (log: Buffer, last: number) => {
      log.writeUInt32LE(log.readUInt32LE(last + 4) + 100, last + 4);
      return log;
    },
  ],
] as const) {
  test(`${what} is STORE_CORRUPT: that record was synced before it was acknowledged, so it is not cut`, async (t) => {
    const { dir, logFile, log } = await logOf(t, 3);
    const last = recordStarts(log)[2]!;
    await fsp.writeFile(logFile, damage(Buffer.from(log), last));
    await expectCorrupt(dir, logFile, /at byte \d+, record \d+/);
  });
}

/** The frame of revision 4 (after three batches), as an interrupted append would have started it. */
const fourth = () =>
  encodeFrame(
    Buffer.from(
      JSON.stringify({
        revision: 4,
        time: '2026-01-01T00:00:00Z',
        ops: [
          {
            op: 'put',
            resource: { ...service('d'), metadata: { name: 'd', namespace: 'default', resourceVersion: '4', creationTimestamp: '2026-01-01T00:00:00Z' }, filler: 'x'.repeat(1500) },
          },
        ],
      }),
    ),
  );

for (const [what, tail] of [
  ['half a record', () => fourth().subarray(0, 20)],
  ['a record header only', () => fourth().subarray(0, 7)],
  ['zeros where the record was to go (the file grew, the data never arrived)', () => Buffer.alloc(300)],
  [
    'a whole-length record with a sector never written',
    (log: Buffer) => {
      const f = fourth();
      // Zero the record's bytes in one 512-byte sector of the file.
      const sector = (Math.floor(log.length / 512) + 2) * 512 - log.length;
      f.fill(0, sector, sector + 512);
      return f;
    },
  ],
] as const) {
  test(`a torn tail (${what}) at the end of the log is cut and every earlier batch survives`, async (t) => {
    const { dir, logFile, log } = await logOf(t, 3);
    const bytes = tail(log);
    await fsp.appendFile(logFile, bytes);
    const { logger, messages } = capturingLogger();
    const second = await open(t, dir, { snapshotOnClose: false, logger });
    assert.equal(second.recovery.droppedTailBytes, bytes.length);
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, new RegExp(`the store log .*batches\\.log ends with ${bytes.length} bytes of an unfinished write at byte ${log.length} .*cutting them`));
    assert.deepEqual(await names(second), ['Service/s1@1', 'Service/s2@2', 'Service/s3@3']);
    assert.equal((await fsp.stat(logFile)).size, log.length, 'the tail was cut from the file');
    // New batches go after the good records and are read back on the next open.
    assert.equal(await applyOk(second, [put(service('d'))]), 4);
    await second.close();
    const third = await open(t, dir);
    assert.equal(third.recovery.droppedTailBytes, 0);
    assert.deepEqual(await names(third), ['Service/d@4', 'Service/s1@1', 'Service/s2@2', 'Service/s3@3']);
  });
}

test('state is recovered from a snapshot plus the log written after it', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir, { snapshotAfterRecords: 3, snapshotOnClose: false });
  for (let i = 1; i <= 8; i++) await applyOk(first, [put(service(`s${i}`))]);
  await applyOk(first, [{ op: 'delete', key: { kind: 'Service', namespace: 'default', name: 's1' } }]);
  await first.close();
  await fsp.access(path.join(dir, SNAPSHOT_FILE));
  const second = await open(t, dir);
  assert.equal(second.recovery.snapshotRevision, 6);
  assert.equal(second.recovery.replayedRecords, 3);
  assert.equal(second.revision(), 9);
  assert.deepEqual(await names(second), ['Service/s2@2', 'Service/s3@3', 'Service/s4@4', 'Service/s5@5', 'Service/s6@6', 'Service/s7@7', 'Service/s8@8']);
});

test('a log that was not yet emptied after its snapshot is not applied twice', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir, { snapshotOnClose: false });
  for (const n of ['a', 'b']) await applyOk(first, [put(service(n))]);
  await applyOk(first, [{ op: 'delete', key: { kind: 'Service', namespace: 'default', name: 'a' } }]);
  await first.close();
  const logFile = path.join(dir, LOG_FILE);
  const oldLog = await fsp.readFile(logFile);
  const second = await open(t, dir);
  await second.close(); // snapshot at revision 3, log emptied
  assert.equal((await fsp.stat(logFile)).size, 0);
  await fsp.writeFile(logFile, oldLog); // as if the process died between the snapshot and emptying the log
  const third = await open(t, dir);
  assert.deepEqual(third.recovery, { snapshotRevision: 3, replayedRecords: 0, droppedTailBytes: 0 });
  assert.deepEqual(await names(third), ['Service/b@2']);
});

test('a log that skips a revision is refused as STORE_CORRUPT and the lock is released', async (t) => {
  const dir = await tempDir(t);
  const rec = (revision: number) => encodeFrame(Buffer.from(JSON.stringify({ revision, time: '2026-01-01T00:00:00Z', ops: [] })));
  await fsp.writeFile(path.join(dir, LOG_FILE), Buffer.concat([rec(1), rec(3)]));
  const r = await openFileStore({ dataDir: dir });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_CORRUPT');
  assert.match(r.error.message, /jumps from revision 1 to 3; expected 2/);
  await assert.rejects(fsp.access(path.join(dir, LOCK_FILE)));
});

test('a damaged snapshot is refused as STORE_CORRUPT, not silently dropped', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir);
  await applyOk(first, [put(service('a'))]);
  await first.close();
  const snap = path.join(dir, SNAPSHOT_FILE);
  const data = await fsp.readFile(snap);
  data[data.length - 3]! ^= 0xff;
  await fsp.writeFile(snap, data);
  const r = await openFileStore({ dataDir: dir });
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_CORRUPT');
  assert.match(r.error.message, /snapshot\.trellis is damaged \(at byte 0\)/);
  assert.ok((await fsp.readFile(snap)).equals(data), 'the snapshot was changed on disk');
});

test('a leftover temporary snapshot is ignored and removed', async (t) => {
  const dir = await tempDir(t);
  await fsp.writeFile(path.join(dir, `${SNAPSHOT_FILE}.tmp`), 'half a snapshot');
  const store = await open(t, dir);
  assert.equal(store.revision(), 0);
  await assert.rejects(fsp.access(path.join(dir, `${SNAPSHOT_FILE}.tmp`)));
});

test('a second open of the same data directory fails with STORE_LOCKED naming the directory and pid', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir);
  const second = await openFileStore({ dataDir: dir });
  assert.ok(!second.ok);
  assert.equal(second.error.code, 'STORE_LOCKED');
  assert.ok(second.error.message.includes(dir), second.error.message);
  assert.ok(second.error.message.includes(`pid ${process.pid}`), second.error.message);
  await first.close();
  const third = await open(t, dir);
  assert.equal(third.revision(), 0);
});

test('a stale lock of a process that is gone is taken over', async (t) => {
  const dir = await tempDir(t);
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8', timeout: 10_000 });
  await fsp.writeFile(path.join(dir, LOCK_FILE), `${gone.stdout}\n`);
  const { logger, messages } = capturingLogger();
  const store = await open(t, dir, { logger });
  assert.match(messages.join('\n'), new RegExp(`taking over the lock of .*: its owner \\(pid ${gone.stdout}\\) is not running`));
  assert.equal((await fsp.readFile(path.join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid));
  await store.close();
  await assert.rejects(fsp.access(path.join(dir, LOCK_FILE)), 'close removes the lock file');
});

test('a conflicting batch in a file store stores nothing, also after reopen', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir, { snapshotOnClose: false });
  await applyOk(first, [put(service('a'))]);
  const r = await first.apply([put(service('b')), { op: 'put', resource: service('a', { port: 1 }), expectedVersion: '0' }]);
  assert.ok(!r.ok && r.error.code === 'STORE_CONFLICT');
  await first.close();
  const second = await open(t, dir);
  assert.deepEqual(await names(second), ['Service/a@1']);
});

test('watchers of a file store see committed batches in order, with replay', async (t) => {
  const dir = await tempDir(t);
  const store = await open(t, dir);
  await applyOk(store, [put(service('a'))]);
  const seen: string[] = [];
  const w = store.watch(0, (e) => seen.push(`${e.revision}:${e.type}:${e.resource.metadata.name}`));
  assert.ok(w.ok);
  await Promise.all([store.apply([put(service('b'))]), store.apply([put(service('a', { port: 1 }))])]);
  assert.deepEqual(seen, ['1:ADDED:a', '2:ADDED:b', '3:MODIFIED:a']);
});

test('a reopened store lets watchers start at its revision but not before', async (t) => {
  const dir = await tempDir(t);
  const first = await open(t, dir);
  await applyOk(first, [put(service('a'))]);
  await first.close();
  const second = await open(t, dir);
  const expired = second.watch(0, () => {});
  assert.ok(!expired.ok && expired.error.code === 'STORE_WATCH_EXPIRED');
  assert.ok(second.watch(1, () => {}).ok);
});
