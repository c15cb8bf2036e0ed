// The store never loses acknowledged data silently, seen from the operator's side: a damaged
// batches.log stops the control plane with STORE_CORRUPT and the offset and is left as it was;
// `trellis store verify` finds it; a backup taken while the control plane ran brings every
// resource back; `trellis store repair` keeps the good prefix only when asked; a torn last
// record (an unacknowledged write) is still cut and the control plane starts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { freePorts } from '../../src/common/free-port.js';
import { cleanup } from './cleanup.js';
import { api, applyResources, httpService, runCli, startControlPlane, type ControlPlane } from './harness.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** Where each record of an intact log starts (walking its length fields). */
function recordStarts(log: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 0; at + 12 <= log.length; at += 12 + log.readUInt32LE(at + 4)) starts.push(at);
  return starts;
}

/** A control plane with `n` Services, each applied as its own batch, killed so that its log keeps every record. */
async function killedWithLog(t: TestContext, n: number): Promise<{ cp: ControlPlane; logFile: string; names: string[] }> {
  const cp = await startControlPlane(t);
  const names = Array.from({ length: n }, (_, i) => `svc-${i + 1}`);
  for (const name of names) await applyResources(cp, [httpService(name)]);
  return { cp, logFile: path.join(cp.dataDir, 'batches.log'), names };
}

/** Flips one byte inside the payload of record `index` (0-based) of the log; answers where that record starts. */
function flipInRecord(logFile: string, index: number): number {
  const log = readFileSync(logFile);
  const start = recordStarts(log)[index]!;
  log[start + 12 + 10]! ^= 0x01;
  writeFileSync(logFile, log);
  return start;
}

/** Runs `trellis control-plane` on `dataDir` until it exits (it must not start). */
async function startRefused(dataDir: string) {
  const [apiPort, xdsPort] = await freePorts(2);
  return runCli(['control-plane', '--data-dir', dataDir, '--api-address', `127.0.0.1:${apiPort}`, '--xds-address', `127.0.0.1:${xdsPort}`], {}, undefined, 30_000);
}

const serviceNames = async (cp: ControlPlane): Promise<string[]> =>
  ((await api(cp, 'GET', '/api/v1/services')).body as { items: { metadata: { name: string } }[] }).items.map((s) => s.metadata.name).sort();

test(
  'a byte flipped in the middle of batches.log: the control plane refuses to start with STORE_CORRUPT and the offset, verify reports it, and a backup taken while it ran brings every resource back',
  { timeout: 120_000 },
  async (t) => {
    const { cp, logFile, names } = await killedWithLog(t, 6);
    const backupDir = mkdtempSync(path.join(os.tmpdir(), 'trellis-backup-'));
    cleanup(t, () => rmSync(backupDir, { recursive: true, force: true }));
    const backupFile = path.join(backupDir, 'store.backup');
    const backup = await runCli(['store', 'backup', backupFile], cp.cliEnv);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /backup of revision 6 \(6 resource\(s\)\) written to/);
    await cp.stop('SIGKILL');

    const offset = flipInRecord(logFile, 2);
    const before = sha256(logFile);
    const refused = await startRefused(cp.dataDir);
    assert.notEqual(refused.code, 0, `the control plane started on a damaged log: ${refused.stdout}${refused.stderr}`);
    assert.match(refused.stderr, new RegExp(`STORE_CORRUPT: .*batches\\.log is damaged \\(at byte ${offset}, record 3, revision 3\\)`));
    assert.match(refused.stderr, /trellis store verify --data-dir/);
    assert.equal(sha256(logFile), before, 'the damaged log was changed on disk');

    const verify = await runCli(['store', 'verify', '--data-dir', cp.dataDir]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stderr, /store DAMAGED/);
    assert.match(verify.stderr, new RegExp(`problem: .*batches\\.log is damaged \\(at byte ${offset}, record 3`));
    assert.match(verify.stderr, /3 intact record\(s\) lie after the first damage/);
    assert.equal(sha256(logFile), before, 'verify changed the log');

    // Restore over the damaged store: refused without --force, then the old files are moved aside.
    const plain = await runCli(['store', 'restore', '--from', backupFile, '--data-dir', cp.dataDir]);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /STORE_NOT_EMPTY: .*already holds a store.*--force/);
    assert.equal(sha256(logFile), before, 'a refused restore changed the log');
    const restored = await runCli(['store', 'restore', '--from', backupFile, '--data-dir', cp.dataDir, '--force']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /restored revision 6 \(6 resource\(s\)\)/);
    const aside = readdirSync(cp.dataDir).find((f) => f.startsWith('replaced-'));
    assert.ok(aside, 'the damaged store files were not kept');
    assert.equal(sha256(path.join(cp.dataDir, aside, 'batches.log')), before);

    const verified = await runCli(['store', 'verify', '--data-dir', cp.dataDir]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /store OK: .* opens at revision 6 .*6 resource\(s\)/);
    const cp2 = await cp.restart();
    assert.deepEqual(await serviceNames(cp2), names);
    assert.equal((await api(cp2, 'GET', '/healthz')).body.revision, 6);
  },
);

test('a damaged first record followed by good ones is STORE_CORRUPT, not a control plane with no Services', { timeout: 90_000 }, async (t) => {
  const { cp, logFile } = await killedWithLog(t, 3);
  await cp.stop('SIGKILL');
  flipInRecord(logFile, 0);
  const before = sha256(logFile);
  const refused = await startRefused(cp.dataDir);
  assert.notEqual(refused.code, 0, `the control plane started on a damaged log: ${refused.stdout}${refused.stderr}`);
  assert.match(refused.stderr, /STORE_CORRUPT: .*batches\.log is damaged \(at byte 0, record 1\)/);
  assert.equal(sha256(logFile), before);
});

test('trellis store repair keeps the records before the damage only when asked, and copies the original aside', { timeout: 90_000 }, async (t) => {
  const { cp, logFile, names } = await killedWithLog(t, 5);
  await cp.stop('SIGKILL');
  const offset = flipInRecord(logFile, 2);
  const damaged = readFileSync(logFile);

  const unasked = await runCli(['store', 'repair', '--data-dir', cp.dataDir]);
  assert.equal(unasked.code, 1);
  assert.match(unasked.stderr, /--truncate-at-corruption/);
  assert.ok(readFileSync(logFile).equals(damaged), 'repair without --truncate-at-corruption changed the log');

  const repaired = await runCli(['store', 'repair', '--data-dir', cp.dataDir, '--truncate-at-corruption']);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(
    repaired.stdout,
    new RegExp(
      `cut the store log at byte ${offset}: dropped ${damaged.length - offset} bytes \\(2 intact record\\(s\\) after the damage among them\\); the store now opens at revision 2`,
    ),
  );
  const copy = readdirSync(cp.dataDir).find((f) => f.startsWith('batches.log.corrupt-'));
  assert.ok(copy, 'the original log was not copied aside');
  assert.ok(readFileSync(path.join(cp.dataDir, copy)).equals(damaged), 'the copy is not the original');
  assert.ok(readFileSync(logFile).equals(damaged.subarray(0, offset)), 'the log is not the prefix before the damage');

  const cp2 = await cp.restart();
  assert.deepEqual(await serviceNames(cp2), names.slice(0, 2));
});

test('a torn last record (an unacknowledged write) is cut and the control plane starts with every acknowledged change', { timeout: 90_000 }, async (t) => {
  const { cp, logFile, names } = await killedWithLog(t, 3);
  await cp.stop('SIGKILL');
  const log = readFileSync(logFile);
  // The first 40 bytes of a record: what a crash in the middle of an append leaves.
  appendFileSync(logFile, log.subarray(0, 40));
  const cp2 = await cp.restart();
  assert.deepEqual(await serviceNames(cp2), names);
  assert.equal((await api(cp2, 'GET', '/healthz')).body.revision, 3);
  assert.match(cp2.output(), /unfinished write/);
  await applyResources(cp2, [httpService('after-the-cut')]);
  assert.equal((await api(cp2, 'GET', '/healthz')).body.revision, 4);
});
