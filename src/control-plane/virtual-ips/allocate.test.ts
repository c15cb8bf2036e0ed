// Virtual IP allocation: stable for existing Services, in range, unique, persisted across restarts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { allocateVirtualIps } from './allocate.js';
import { VIRTUAL_IPS_FILE, VirtualIpAllocator } from './allocator.js';

test('every Service gets a distinct address inside the range, never its first or last', () => {
  const keys = Array.from({ length: 14 }, (_, i) => `default/s${i}`);
  const r = allocateVirtualIps(new Map(), keys, '240.240.0.0/28');
  assert.equal(r.vips.size, 14);
  const ips = [...r.vips.values()];
  assert.equal(new Set(ips).size, 14);
  for (const ip of ips) {
    const last = Number(ip.split('.')[3]);
    assert.ok(ip.startsWith('240.240.0.') && last >= 1 && last <= 14, ip);
  }
  const full = allocateVirtualIps(r.vips, [...keys, 'default/one-too-many'], '240.240.0.0/28');
  assert.deepEqual(full.unallocated, ['default/one-too-many']);
});

test('existing Services keep their address when others come and go', () => {
  const first = allocateVirtualIps(new Map(), ['default/a', 'default/b', 'shop/c'], '240.240.0.0/16');
  const second = allocateVirtualIps(first.vips, ['default/b', 'shop/c', 'default/d', 'default/e'], '240.240.0.0/16');
  assert.equal(second.vips.get('default/b'), first.vips.get('default/b'));
  assert.equal(second.vips.get('shop/c'), first.vips.get('shop/c'));
  assert.equal(second.vips.has('default/a'), false);
  assert.equal(second.changed, true);
  assert.equal(allocateVirtualIps(second.vips, ['default/b', 'shop/c', 'default/d', 'default/e'], '240.240.0.0/16').changed, false);
});

test('a new range moves every address into it', () => {
  const first = allocateVirtualIps(new Map(), ['default/a'], '240.240.0.0/16');
  const moved = allocateVirtualIps(first.vips, ['default/a'], '10.96.0.0/12');
  assert.match(moved.vips.get('default/a')!, /^10\.(9[6-9]|10[0-9]|11[01])\./);
});

test('the allocation survives a restart through virtual-ips.json', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-vips-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = new VirtualIpAllocator(dir);
  const vips = a.update(['default/payments', 'default/ledger'], '240.240.0.0/16');
  assert.ok(JSON.parse(readFileSync(path.join(dir, VIRTUAL_IPS_FILE), 'utf8')).vips['default/payments']);
  const b = new VirtualIpAllocator(dir);
  assert.deepEqual(b.current, vips);
  // A Service created later, whose hash lands anywhere, never takes an address already given.
  const later = b.update(['default/payments', 'default/ledger', 'default/orders'], '240.240.0.0/16');
  assert.equal(later.get('default/payments'), vips.get('default/payments'));
  writeFileSync(path.join(dir, VIRTUAL_IPS_FILE), '{not json');
  assert.throws(() => new VirtualIpAllocator(dir), /virtual-ips.json is not valid JSON/);
});
