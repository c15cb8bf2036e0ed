import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { proxyArgv, SIDECAR_NODE_FLAGS } from './self.js';

test('this Node.js accepts every flag a sidecar runs with, before the script', () => {
  const [node, ...rest] = proxyArgv();
  assert.deepEqual(rest.slice(0, SIDECAR_NODE_FLAGS.length), [...SIDECAR_NODE_FLAGS]);
  assert.deepEqual(rest.slice(-1), ['proxy']);
  const r = spawnSync(node!, [...SIDECAR_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});
