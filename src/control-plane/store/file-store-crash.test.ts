// A writer killed with SIGKILL at a random moment loses no acknowledged batch, and the store opens cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { openFileStore } from './file-store.js';

const WRITER = fileURLToPath(new URL('./file-store-crash-writer.js', import.meta.url));

/** Runs the writer until a random moment after its first ack, kills it, and returns the batches it acknowledged. */
function runAndKill(dataDir: string, maxRunMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errText = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      // Kill at a random moment once the writer is up (it has opened the store and acknowledged a batch).
      timer ??= setTimeout(() => child.kill('SIGKILL'), 20 + Math.random() * maxRunMs);
    });
    child.stderr.on('data', (c: Buffer) => {
      errText += c.toString();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      if (signal !== 'SIGKILL') return reject(new Error(`the writer exited with code ${code} before it was killed: ${errText}`));
      // A line cut off by the kill (no newline yet) is not counted as an ack.
      resolve(
        out
          .split('\n')
          .slice(0, -1)
          .map((l) => Number(/^ack (\d+)$/.exec(l)?.[1] ?? NaN)),
      );
    });
  });
}

test('every batch acknowledged before a SIGKILL is there after reopening, across several kills', { timeout: 30_000 }, async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'trellis-store-crash-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  let acknowledged = 0;
  for (let round = 0; round < 3; round++) {
    const acks = await runAndKill(dir, 250);
    assert.ok(acks.length > 0 && acks.every(Number.isInteger), `round ${round}: the writer acknowledged nothing or printed garbage`);
    acknowledged = Math.max(acknowledged, ...acks);

    // Silent: taking over the dead writer's lock is expected and logged as a warning.
    const opened = await openFileStore({ dataDir: dir, logger: pino({ level: 'silent' }) });
    assert.ok(opened.ok, `round ${round}: reopen failed: ${!opened.ok && opened.error.message}`);
    const store = opened.value;
    try {
      const items = (await store.list('Service')).items;
      const batches = new Set(items.filter((s) => s.metadata.name.startsWith('svc-')).map((s) => Number(s.metadata.labels?.batch)));
      const counter = items.find((s) => s.metadata.name === 'counter');
      const last = Number(counter?.metadata.labels?.n);
      assert.ok(last >= acknowledged, `round ${round}: batch ${acknowledged} was acknowledged but the store ends at ${last}`);
      // Batches are atomic and in order: the store holds exactly batches 1..last, nothing torn, no gap.
      assert.equal(batches.size, last, `round ${round}: ${batches.size} batch services for ${last} batches`);
      for (let i = 1; i <= last; i++) assert.ok(batches.has(i), `round ${round}: batch ${i} is missing`);
      assert.equal(store.revision(), last);
      acknowledged = last;
      if (process.env.CRASH_DEBUG)
        console.log(`round ${round}: acked ${acks.length} (up to ${Math.max(...acks)}), stored up to ${last}, recovery ${JSON.stringify(store.recovery)}`);
    } finally {
      await store.close();
    }
  }
});
