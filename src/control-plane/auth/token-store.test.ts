import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { TokenStore } from './token-store.js';

test('tokens verify by role, are stored hashed (0600), expire and can be revoked', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-tokens-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let now = Date.now();
  const store = await TokenStore.open(dir, () => now);
  const join = await store.create('join', { service: 'payments', ttlSeconds: 60 });
  const admin = await store.create('admin');
  assert.equal(store.verify(join.token, ['join']).ok, true);
  assert.equal(store.verify(join.token, ['admin', 'read-only']).ok, false, 'a join token is no operator token');
  assert.equal(store.verify(admin.token, ['join']).ok, false);
  const tampered = join.token.slice(0, -2) + (join.token.endsWith('aa') ? 'bb' : 'aa');
  const bad = store.verify(tampered, ['join']);
  assert.ok(!bad.ok && bad.error.code === 'TOKEN_INVALID');
  assert.equal(bad.ok ? '' : bad.error.message.includes(tampered.split('.')[2]!), false, 'the error does not repeat the secret');
  const file = readFileSync(path.join(dir, 'tokens.json'), 'utf8');
  assert.equal(file.includes(join.token.split('.')[2]!), false);
  assert.equal(statSync(path.join(dir, 'tokens.json')).mode & 0o777, 0o600);
  // Persisted: a reopened store knows the token.
  assert.equal((await TokenStore.open(dir, () => now)).verify(join.token, ['join']).ok, true);
  now += 61e3;
  const expired = store.verify(join.token, ['join']);
  assert.ok(!expired.ok && expired.error.code === 'TOKEN_EXPIRED');
  const revokedIds: string[] = [];
  store.onRevoke((id) => revokedIds.push(id));
  assert.ok((await store.revoke(admin.info.id)).ok);
  const revoked = store.verify(admin.token, ['admin']);
  assert.ok(!revoked.ok && revoked.error.code === 'TOKEN_REVOKED');
  assert.deepEqual(revokedIds, [admin.info.id]);
  assert.equal((await store.revoke('nope')).ok, false);
});

test('a tokens.json that is not JSON stops the start with an error naming the file, and is left as it is', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-tokens-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'tokens.json'), '[{"id":');
  await assert.rejects(TokenStore.open(dir), new RegExp(`${path.join(dir, 'tokens.json').replace(/[/.]/g, '\\$&')} is not valid JSON`));
  assert.equal(readFileSync(path.join(dir, 'tokens.json'), 'utf8'), '[{"id":');
});

test('a join token keeps the labels it allows across a reopen; a token without labels has none', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-tokens-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await TokenStore.open(dir);
  const v2 = await store.create('join', { service: 'reviews', labels: { version: 'v2' } });
  const free = await store.create('join', { service: 'reviews' });
  const reopened = await TokenStore.open(dir);
  const a = reopened.verify(v2.token, ['join']);
  assert.ok(a.ok);
  assert.deepEqual(a.value.labels, { version: 'v2' });
  const b = reopened.verify(free.token, ['join']);
  assert.ok(b.ok);
  assert.equal(b.value.labels, undefined);
  await assert.rejects(store.create('join', { service: 'evil', labels: { app: 'payments' } }), /app label is its service evil, not payments/);
});
