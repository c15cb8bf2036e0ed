// workloads.json: the registry's state survives a restart, and a damaged file starts an empty
// registry with a warning that names the file and what was wrong.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Logger } from '../../common/log.js';
import type { ProxyMetadata } from '../../xds/node-metadata.js';
import { readWorkloadsFile, RegistryFile, WORKLOADS_FILE } from './registry-file.js';
import { WorkloadRegistry } from './workload-registry.js';

const meta = (address: string): ProxyMetadata => ({
  service: 'payments',
  namespace: 'default',
  labels: { version: 'v1' },
  address,
  inbound: [{ port: 15006, appPort: 3000 }],
  upstreams: [],
  adminPort: 15000,
});

function dataDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A logger that records its warnings. */
function recordingLogger(): { logger: Logger; warnings: { fields: Record<string, unknown>; msg: string }[] } {
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  const logger = { warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }) } as unknown as Logger;
  return { logger, warnings };
}

test('every change is saved, and a new registry restores the workloads as disconnected', async (t) => {
  const dir = dataDir(t);
  const first = new WorkloadRegistry();
  const file = new RegistryFile(dir, first);
  first.connect('p1', meta('10.0.0.1'));
  first.connect('p2', meta('10.0.0.2'));
  first.connect('p1', meta('10.0.0.3'));
  await file.close();
  first.close();
  const saved = JSON.parse(readFileSync(path.join(dir, WORKLOADS_FILE), 'utf8'));
  assert.deepEqual(
    saved.workloads.map((w: { id: string; address: string }) => [w.id, w.address]),
    [
      ['p1', '10.0.0.3'],
      ['p2', '10.0.0.2'],
    ],
  );

  const second = new WorkloadRegistry();
  t.after(() => second.close());
  second.restore(await readWorkloadsFile(dir));
  assert.deepEqual(
    second.list().map((w) => [w.id, w.address, w.connected]),
    [
      ['p1', '10.0.0.3', false],
      ['p2', '10.0.0.2', false],
    ],
  );
});

test('no file is an empty registry without a warning; a damaged one is an empty registry with one', async (t) => {
  const dir = dataDir(t);
  const quiet = recordingLogger();
  assert.deepEqual(await readWorkloadsFile(dir, quiet.logger), []);
  assert.deepEqual(quiet.warnings, []);

  writeFileSync(path.join(dir, WORKLOADS_FILE), '{"version":1,"workl');
  const broken = recordingLogger();
  assert.deepEqual(await readWorkloadsFile(dir, broken.logger), []);
  assert.match(broken.warnings[0]!.msg, /not valid JSON/);
  assert.equal(broken.warnings[0]!.fields.file, path.join(dir, WORKLOADS_FILE));

  writeFileSync(
    path.join(dir, WORKLOADS_FILE),
    JSON.stringify({
      version: 1,
      workloads: [{ id: 'p1', service: 'payments', namespace: 'default', labels: {}, address: '10.0.0.1', inbound: [{ port: 0, appPort: 3000 }], connected: true, lastSeen: '' }],
    }),
  );
  const wrong = recordingLogger();
  assert.deepEqual(await readWorkloadsFile(dir, wrong.logger), []);
  assert.equal(wrong.warnings[0]!.fields.field, 'workloads.0.inbound.0.port');
});
