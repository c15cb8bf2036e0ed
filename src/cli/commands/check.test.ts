// The certificate line of `trellis check`, on plain proxy statuses at a fixed time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyStatus } from '../../api/proxy-status.js';
import { certificateLine } from './check.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const H = 3600_000;
function proxy(id: string, cert?: [number, number]): ProxyStatus {
  return {
    id,
    service: 's',
    namespace: 'default',
    address: '127.0.0.1',
    connected: true,
    lastSeen: new Date(NOW).toISOString(),
    versions: { listeners: '1', routes: '1', clusters: '1', endpoints: '1' },
    nacks: [],
    ...(cert ? { certificate: { notBefore: new Date(NOW + cert[0] * H).toISOString(), notAfter: new Date(NOW + cert[1] * H).toISOString() } } : {}),
  };
}

test('fresh certificates pass and the soonest expiry is named', () => {
  const l = certificateLine([proxy('a', [-1, 23]), proxy('b', [-10, 14]), proxy('c')], NOW);
  assert.equal(l.verdict, 'ok');
  assert.equal(l.detail, '2 of 3 connected proxies hold a workload certificate (1 without); the soonest expires at 2026-12-03T02:00:00.000Z (in 14.0 h, b)');
});

test('a certificate past its renewal with under a quarter of its lifetime left fails, and so does an expired one', () => {
  const l = certificateLine([proxy('a', [-1, 23]), proxy('late', [-20, 4]), proxy('gone', [-25, -1])], NOW);
  assert.equal(l.verdict, 'FAIL');
  assert.match(l.detail, /^gone: expired at 2026-12-02T11:00:00.000Z; late: expires at 2026-12-02T16:00:00.000Z \(in 4.0 h\); a proxy renews at half/);
});

test('without certificates the line is skipped with the reason', () => {
  assert.deepEqual(certificateLine([proxy('a')], NOW), { verdict: 'skip', check: 'certificates not near expiry', detail: 'no connected proxy holds a workload certificate' });
  assert.equal(certificateLine([], NOW).detail, 'no proxies');
});
