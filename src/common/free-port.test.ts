// Port reservations: a port handed to one process is not handed to another for a while, also
// when both ask at the same moment; a stale reservation is taken over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePorts, reserve, RESERVATIONS } from './free-port.js';

const here = path.dirname(fileURLToPath(import.meta.url));

test('a reserved port is refused to the next claim until its reservation is stale', (t) => {
  const port = 60000 + Math.floor(Math.random() * 5000); // above the range freePort hands out
  const file = path.join(RESERVATIONS, String(port));
  t.after(() => rmSync(file, { force: true }));
  rmSync(file, { force: true });
  assert.equal(reserve(port), true);
  assert.equal(reserve(port), false, 'a fresh reservation must block the second claim');
  const old = new Date(Date.now() - 11 * 60_000);
  utimesSync(file, old, old);
  assert.equal(reserve(port), true, 'an 11-minute-old reservation is stale and taken over');
  assert.equal(reserve(port), false);
});

test('two processes asking for 300 ports each at the same moment get disjoint sets', async (t) => {
  const moduleUrl = new URL('./free-port.js', import.meta.url).href;
  const script = `import(${JSON.stringify(moduleUrl)}).then(async (m) => process.stdout.write(JSON.stringify(await m.freePorts(300))))`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [mine] = await Promise.all([freePorts(300), new Promise((resolve) => child.on('close', resolve))]);
  const theirs = JSON.parse(out) as number[];
  t.after(() => {
    for (const p of [...mine, ...theirs]) rmSync(path.join(RESERVATIONS, String(p)), { force: true });
  });
  assert.equal(theirs.length, 300);
  assert.equal(new Set(mine).size, 300);
  const shared = mine.filter((p) => theirs.includes(p));
  assert.deepEqual(shared, [], `ports handed to both processes: ${shared.join(', ')}`);
});
