// The registry's lifecycle: join on connect, grace period on disconnect, no churn on reconnect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyMetadata } from '../../xds/node-metadata.js';
import type { Clock } from './clock.js';
import { workloadFromMetadata } from './workload.js';
import { WorkloadRegistry, type WorkloadEvent } from './workload-registry.js';

/** A clock that moves only when told to. */
function fakeClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = Date.parse('2026-01-01T00:00:00Z');
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
    pending: () => timers.length,
  };
}

const meta = (over: Partial<ProxyMetadata> = {}): ProxyMetadata => ({
  service: 'payments',
  namespace: 'default',
  labels: { version: 'v1' },
  address: '10.0.0.1',
  inbound: [{ port: 15006, appPort: 3000 }],
  upstreams: [],
  adminPort: 15000,
  ...over,
});

function setup(graceSeconds = 30) {
  const clock = fakeClock();
  const registry = new WorkloadRegistry({ clock, gracePeriodSeconds: () => graceSeconds });
  const events: WorkloadEvent[] = [];
  registry.onChange((e) => events.push(e));
  return { clock, registry, events, types: () => events.map((e) => `${e.type}:${e.workload.id}:${e.workload.connected}`) };
}

test('a connecting proxy joins as a connected workload with app=<service> implied', () => {
  const { registry, types } = setup();
  registry.connect('p1', meta());
  const w = registry.get('p1');
  assert.deepEqual(w, {
    id: 'p1',
    service: 'payments',
    namespace: 'default',
    labels: { app: 'payments', version: 'v1' },
    address: '10.0.0.1',
    inbound: [{ port: 15006, appPort: 3000 }],
    connected: true,
    lastSeen: '2026-01-01T00:00:00.000Z',
  });
  assert.deepEqual(types(), ['added:p1:true']);
});

test('an explicit app label is kept', () => {
  const { registry } = setup();
  registry.connect('p1', meta({ labels: { app: 'pay' } }));
  assert.equal(registry.get('p1')?.labels.app, 'pay');
});

test('a disconnected workload stays, marked disconnected, until the grace period ends', () => {
  const { registry, clock, types } = setup(30);
  const lease = registry.connect('p1', meta());
  registry.disconnect('p1', lease);
  assert.equal(registry.get('p1')?.connected, false);
  clock.advance(29_999);
  assert.ok(registry.get('p1'), 'still registered before the grace period ends');
  clock.advance(1);
  assert.equal(registry.get('p1'), undefined);
  assert.deepEqual(types(), ['added:p1:true', 'updated:p1:false', 'removed:p1:false']);
});

test('a reconnect within the grace period is the same workload: no removal, no add', () => {
  const { registry, clock, types } = setup(30);
  const lease = registry.connect('p1', meta());
  registry.disconnect('p1', lease);
  clock.advance(10_000);
  registry.connect('p1', meta());
  clock.advance(60_000);
  assert.equal(registry.get('p1')?.connected, true);
  assert.deepEqual(types(), ['added:p1:true', 'updated:p1:false', 'updated:p1:true']);
  assert.equal(clock.pending(), 0, 'the grace timer was cancelled');
});

test('a second stream with the same id takes over: the first stream ending changes nothing', () => {
  const { registry, clock, types } = setup(30);
  const first = registry.connect('p1', meta());
  registry.connect('p1', meta());
  registry.disconnect('p1', first);
  clock.advance(60_000);
  assert.equal(registry.get('p1')?.connected, true);
  assert.deepEqual(types(), ['added:p1:true']);
});

test('new metadata on reconnect is an update', () => {
  const { registry, events } = setup();
  registry.connect('p1', meta());
  registry.connect('p1', meta({ address: '10.0.0.2' }));
  assert.equal(events.at(-1)?.type, 'updated');
  assert.equal(registry.get('p1')?.address, '10.0.0.2');
});

test('a grace period of 0 removes the workload at once', () => {
  const { registry, types } = setup(0);
  registry.disconnect('p1', registry.connect('p1', meta()));
  assert.equal(registry.get('p1'), undefined);
  assert.deepEqual(types(), ['added:p1:true', 'removed:p1:false']);
});

test('touch moves lastSeen without an event', () => {
  const { registry, clock, events } = setup();
  const lease = registry.connect('p1', meta());
  clock.advance(5000);
  registry.touch('p1', lease);
  assert.equal(registry.get('p1')?.lastSeen, '2026-01-01T00:00:05.000Z');
  assert.equal(events.length, 1);
});

test('list is ordered by id and unsubscribed listeners hear nothing', () => {
  const { registry, events } = setup();
  const seen: string[] = [];
  const off = registry.onChange((e) => seen.push(e.workload.id));
  registry.connect('b', meta());
  off();
  registry.connect('a', meta());
  assert.deepEqual(
    registry.list().map((w) => w.id),
    ['a', 'b'],
  );
  assert.deepEqual(seen, ['b']);
  assert.equal(events.length, 2);
});

test('close cancels pending grace timers', () => {
  const { registry, clock } = setup(30);
  registry.disconnect('p1', registry.connect('p1', meta()));
  assert.equal(clock.pending(), 1);
  registry.close();
  assert.equal(clock.pending(), 0);
});

test('restored workloads are listed disconnected, removed after a grace period unless their proxy reconnects', () => {
  const { registry, clock, types } = setup(30);
  const saved = (id: string) => workloadFromMetadata(id, meta(), true, Date.parse('2025-12-31T23:00:00Z'));
  registry.restore([saved('back'), saved('gone')]);
  assert.deepEqual(
    registry.list().map((w) => [w.id, w.connected, w.lastSeen]),
    [
      ['back', false, '2025-12-31T23:00:00.000Z'],
      ['gone', false, '2025-12-31T23:00:00.000Z'],
    ],
  );
  clock.advance(10_000);
  const lease = registry.connect('back', meta());
  clock.advance(20_000);
  assert.deepEqual(
    registry.list().map((w) => [w.id, w.connected]),
    [['back', true]],
  );
  assert.deepEqual(types(), ['added:back:false', 'added:gone:false', 'updated:back:true', 'removed:gone:false']);
  // The reconnected workload's own stream now owns it: its disconnect starts the usual grace period.
  registry.disconnect('back', lease);
  assert.equal(registry.get('back')?.connected, false);
});

test('restore leaves workloads that are already registered alone, and a grace period of 0 restores nothing', () => {
  const { registry, types } = setup(30);
  registry.connect('p1', meta({ address: '10.0.0.9' }));
  registry.restore([workloadFromMetadata('p1', meta(), true, 0)]);
  assert.equal(registry.get('p1')?.address, '10.0.0.9');
  assert.equal(registry.get('p1')?.connected, true);
  assert.deepEqual(types(), ['added:p1:true']);
  const none = setup(0);
  none.registry.restore([workloadFromMetadata('p2', meta(), true, 0)]);
  assert.deepEqual(none.registry.list(), []);
});

test('a node id belongs to the identity that registered it until the workload leaves, also after a restore', () => {
  const { clock, registry } = setup(30);
  registry.connect('p1', meta());
  assert.equal(registry.heldByOther('p1', 'default', 'payments'), undefined, 'the same identity may take its node id over');
  assert.equal(registry.heldByOther('p1', 'default', 'web')?.service, 'payments');
  assert.equal(registry.heldByOther('p1', 'prod', 'payments')?.namespace, 'default', 'another namespace is another identity');
  assert.equal(registry.heldByOther('p2', 'default', 'web'), undefined, 'an unknown id is free');
  registry.disconnect('p1', 1);
  assert.equal(registry.heldByOther('p1', 'default', 'web')?.service, 'payments', 'held during the grace period');
  clock.advance(30_000);
  assert.equal(registry.heldByOther('p1', 'default', 'web'), undefined, 'released once the workload left');

  const restarted = setup(30);
  restarted.registry.restore([workloadFromMetadata('p1', meta(), true, 0)]);
  assert.equal(restarted.registry.heldByOther('p1', 'default', 'web')?.service, 'payments', 'a restored workload holds its node id');
});

test("a proxy's reported readiness is kept on its workload; a change is an update, a repeat or a stale lease is not", () => {
  const { registry, types } = setup();
  const lease = registry.connect('p1', meta(), 'not-ready');
  assert.equal(registry.get('p1')?.readiness, 'not-ready');
  registry.setReadiness('p1', lease, 'not-ready');
  registry.setReadiness('p1', lease, 'ready');
  registry.setReadiness('p1', lease + 1, 'draining');
  assert.equal(registry.get('p1')?.readiness, 'ready');
  registry.setReadiness('p1', lease, 'draining');
  assert.equal(registry.get('p1')?.readiness, 'draining');
  assert.deepEqual(types(), ['added:p1:true', 'updated:p1:true', 'updated:p1:true']);
  // A restarted proxy starts over from what it reports on connect.
  registry.connect('p1', meta(), 'not-ready');
  assert.equal(registry.get('p1')?.readiness, 'not-ready');
  // One that stops reporting is a data plane without readiness again.
  const l3 = registry.connect('p2', meta(), 'ready');
  registry.setReadiness('p2', l3, undefined);
  assert.equal('readiness' in registry.get('p2')!, false);
});
