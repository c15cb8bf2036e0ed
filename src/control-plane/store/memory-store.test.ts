// The Store contract on the in-memory store: revisions, optimistic concurrency, atomic batches, unchanged puts, watch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../api/resource.js';
import { createMemoryStore } from './memory-store.js';
import type { Change, WatchEvent } from './store.js';
import { httpRoute, meshConfig, service } from './test-fixtures.js';

const put = (resource: Resource, extra: Partial<Extract<Change, { op: 'put' }>> = {}): Change => ({ op: 'put', resource, ...extra });
const svcKey = (name: string, namespace = 'default') => ({ kind: 'Service' as const, namespace, name });

function clock(start = Date.parse('2026-01-02T03:04:05.678Z')) {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

async function applyOk(store: ReturnType<typeof createMemoryStore>, changes: Change[]) {
  const r = await store.apply(changes);
  assert.ok(r.ok, `apply failed: ${!r.ok && r.error.message}`);
  return r.value;
}

test('a new store is at revision 0 and empty', async () => {
  const store = createMemoryStore();
  assert.equal(store.revision(), 0);
  assert.deepEqual(await store.list(), { items: [], revision: 0 });
});

test('one batch gets one revision, stamped on every resource it stores', async () => {
  const c = clock();
  const store = createMemoryStore({ now: c.now });
  const r = await applyOk(store, [put(service('a')), put(service('b')), put(httpRoute('r', 'a', [{ name: 'b', weight: 1 }]))]);
  assert.equal(r.revision, 1);
  assert.deepEqual(
    r.outcomes.map((o) => o.action),
    ['created', 'created', 'created'],
  );
  for (const item of (await store.list()).items) {
    assert.equal(item.metadata.resourceVersion, '1');
    assert.equal(item.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
  }
  assert.equal((await applyOk(store, [put(service('c'))])).revision, 2);
});

test('replacing keeps creationTimestamp and bumps resourceVersion', async () => {
  const c = clock();
  const store = createMemoryStore({ now: c.now });
  await applyOk(store, [put(service('a'))]);
  c.advance(60_000);
  const r = await applyOk(store, [put(service('a', { port: 9090 }), { mode: 'replace' })]);
  assert.equal(r.outcomes[0]!.action, 'updated');
  const got = await store.get(svcKey('a'));
  assert.ok(got.ok);
  assert.equal(got.value.metadata.resourceVersion, '2');
  assert.equal(got.value.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
  assert.equal((got.value as ReturnType<typeof service>).spec.ports[0]!.port, 9090);
});

test('create of an existing resource fails with STORE_ALREADY_EXISTS naming it and its version', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('a'))]);
  const r = await store.apply([put(service('a'), { mode: 'create' })]);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_ALREADY_EXISTS');
  assert.equal(r.error.actualVersion, '1');
  assert.match(r.error.message, /Service default\/a already exists \(resourceVersion 1\)/);
});

test('replace of a missing resource fails with STORE_NOT_FOUND', async () => {
  const store = createMemoryStore();
  const r = await store.apply([put(service('ghost'), { mode: 'replace' })]);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_NOT_FOUND');
  assert.match(r.error.message, /Service default\/ghost not found/);
});

test('a put expecting an old resourceVersion fails with STORE_CONFLICT naming both versions', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('a'))]);
  await applyOk(store, [put(service('a', { port: 1 }))]);
  const r = await store.apply([put(service('a', { port: 2 }), { expectedVersion: '1' })]);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_CONFLICT');
  assert.deepEqual([r.error.expectedVersion, r.error.actualVersion], ['1', '2']);
  assert.match(r.error.message, /Service default\/a has resourceVersion 2, but the change expected 1/);
});

test('a put expecting the current resourceVersion succeeds', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('a'))]);
  const r = await applyOk(store, [put(service('a', { port: 2 }), { mode: 'replace', expectedVersion: '1' })]);
  assert.equal(r.outcomes[0]!.action, 'updated');
});

test('a put with an expected version of a missing resource fails with STORE_NOT_FOUND', async () => {
  const store = createMemoryStore();
  const r = await store.apply([put(service('a'), { expectedVersion: '3' })]);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_NOT_FOUND');
});

test('delete removes the resource; deleting a missing one is STORE_NOT_FOUND; a stale version is STORE_CONFLICT', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('a')), put(service('b'))]);
  const stale = await store.apply([{ op: 'delete', key: svcKey('a'), expectedVersion: '7' }]);
  assert.ok(!stale.ok && stale.error.code === 'STORE_CONFLICT');
  const r = await applyOk(store, [{ op: 'delete', key: svcKey('a'), expectedVersion: '1' }]);
  assert.equal(r.outcomes[0]!.action, 'deleted');
  assert.equal(r.outcomes[0]!.resource.metadata.resourceVersion, '2');
  assert.deepEqual(
    (await store.list()).items.map((i) => i.metadata.name),
    ['b'],
  );
  const again = await store.apply([{ op: 'delete', key: svcKey('a') }]);
  assert.ok(!again.ok && again.error.code === 'STORE_NOT_FOUND');
});

test('a batch with one failing change applies nothing and keeps the revision', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('a'))]);
  const r = await store.apply([put(service('new')), put(service('a', { port: 1 })), put(service('a2'), { mode: 'replace' })]);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_NOT_FOUND');
  assert.equal(store.revision(), 1);
  assert.deepEqual(
    (await store.list()).items.map((i) => i.metadata.name),
    ['a'],
  );
  const a = await store.get(svcKey('a'));
  assert.ok(a.ok && a.value.metadata.resourceVersion === '1');
});

test('a batch changing one resource twice is refused with STORE_DUPLICATE_CHANGE', async () => {
  const store = createMemoryStore();
  const r = await store.apply([put(service('a')), put(service('a', { port: 1 }))]);
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'STORE_DUPLICATE_CHANGE');
  assert.equal(store.revision(), 0);
});

test('re-putting equal content is unchanged: no new revision, version kept, server fields in the input ignored', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('a'))]);
  const withStaleServerFields = service('a');
  withStaleServerFields.metadata.resourceVersion = '99';
  withStaleServerFields.metadata.creationTimestamp = '2000-01-01T00:00:00Z';
  const r = await applyOk(store, [put(withStaleServerFields)]);
  assert.equal(r.revision, 1);
  assert.equal(r.outcomes[0]!.action, 'unchanged');
  assert.equal(store.revision(), 1);
});

test('a batch mixing unchanged and changed resources bumps the revision only for the changed ones', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('a')), put(service('b'))]);
  const r = await applyOk(store, [put(service('a')), put(service('b', { port: 1 }))]);
  assert.deepEqual(
    r.outcomes.map((o) => [o.action, o.resource.metadata.resourceVersion]),
    [
      ['unchanged', '1'],
      ['updated', '2'],
    ],
  );
});

test('a dry run answers the outcomes and stores nothing', async () => {
  const store = createMemoryStore();
  const r = await store.apply([put(service('a'))], { dryRun: true });
  assert.ok(r.ok);
  assert.equal(r.value.outcomes[0]!.action, 'created');
  assert.equal(store.revision(), 0);
  assert.equal((await store.list()).items.length, 0);
});

test('stored resources are frozen copies: changing the input afterwards does not change the store', async () => {
  const store = createMemoryStore();
  const input = service('a');
  await applyOk(store, [put(input)]);
  input.spec.ports[0]!.port = 1;
  const got = await store.get(svcKey('a'));
  assert.ok(got.ok);
  assert.equal((got.value as ReturnType<typeof service>).spec.ports[0]!.port, 8080);
  assert.throws(() => {
    (got.value.metadata as { name: string }).name = 'x';
  }, TypeError);
});

test('list filters by kind and namespace and sorts by kind, namespace, name', async () => {
  const store = createMemoryStore();
  await applyOk(store, [put(service('z')), put(service('a', { namespace: 'shop' })), put(service('b')), put(httpRoute('r', 'b', [{ name: 'b', weight: 1 }])), put(meshConfig())]);
  const names = (items: Resource[]) => items.map((i) => `${i.kind}/${i.metadata.namespace ?? ''}/${i.metadata.name}`);
  assert.deepEqual(names((await store.list()).items), ['HTTPRoute/default/r', 'MeshConfig//default', 'Service/default/b', 'Service/default/z', 'Service/shop/a']);
  assert.deepEqual(names((await store.list('Service', 'shop')).items), ['Service/shop/a']);
  assert.deepEqual(names((await store.list('Service')).items), ['Service/default/b', 'Service/default/z', 'Service/shop/a']);
});

test('a cluster-scoped MeshConfig is one resource whatever namespace the input carried', async () => {
  const store = createMemoryStore();
  const m = meshConfig();
  m.metadata.namespace = 'ignored';
  await applyOk(store, [put(m)]);
  const got = await store.get({ kind: 'MeshConfig', name: 'default' });
  assert.ok(got.ok);
  assert.equal(got.value.metadata.namespace, undefined);
  assert.equal((await applyOk(store, [put(meshConfig())])).outcomes[0]!.action, 'unchanged');
});

test('concurrent creates of one resource: exactly one wins, the other gets STORE_ALREADY_EXISTS', async () => {
  const store = createMemoryStore();
  const results = await Promise.all([1, 2, 3].map((p) => store.apply([put(service('a', { port: p }), { mode: 'create' })])));
  assert.equal(results.filter((r) => r.ok).length, 1);
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => !r.ok && r.error.code),
    ['STORE_ALREADY_EXISTS', 'STORE_ALREADY_EXISTS'],
  );
});

test('watchers get ADDED, MODIFIED and DELETED in revision order, a batch together', async () => {
  const store = createMemoryStore();
  const seen: string[] = [];
  const w = store.watch(0, (e) => seen.push(`${e.revision}:${e.type}:${e.resource.metadata.name}:${e.resource.metadata.resourceVersion}`));
  assert.ok(w.ok);
  await applyOk(store, [put(service('a')), put(service('b'))]);
  await applyOk(store, [put(service('a', { port: 1 })), { op: 'delete', key: svcKey('b') }]);
  await applyOk(store, [put(service('a', { port: 1 }))]);
  assert.deepEqual(seen, ['1:ADDED:a:1', '1:ADDED:b:1', '2:MODIFIED:a:2', '2:DELETED:b:2']);
});

test('watch replays the history after fromRevision before returning, then continues live', async () => {
  const store = createMemoryStore();
  for (const n of ['a', 'b', 'c']) await applyOk(store, [put(service(n))]);
  const seen: number[] = [];
  const w = store.watch(1, (e) => seen.push(e.revision));
  assert.ok(w.ok);
  assert.deepEqual(seen, [2, 3]);
  await applyOk(store, [put(service('d'))]);
  assert.deepEqual(seen, [2, 3, 4]);
});

test('watch from before the kept history fails with STORE_WATCH_EXPIRED telling the watcher to relist', async () => {
  const store = createMemoryStore({ historyEvents: 2 });
  for (const n of ['a', 'b', 'c', 'd']) await applyOk(store, [put(service(n))]);
  const w = store.watch(1, () => {});
  assert.ok(!w.ok);
  assert.equal(w.error.code, 'STORE_WATCH_EXPIRED');
  assert.match(w.error.message, /cannot watch from revision 1: the store keeps events after revision 2 only; list again/);
  const list = await store.list();
  const seen: number[] = [];
  assert.ok(store.watch(list.revision, (e) => seen.push(e.revision)).ok);
  assert.deepEqual(seen, []);
});

test('a store opened at a revision cannot replay what came before it', async () => {
  const store = createMemoryStore({ initial: { revision: 5, resources: [] } });
  assert.ok(!store.watch(4, () => {}).ok);
  assert.ok(store.watch(5, () => {}).ok);
});

test('a closed watch gets nothing more', async () => {
  const store = createMemoryStore();
  const seen: WatchEvent[] = [];
  const w = store.watch(0, (e) => seen.push(e));
  assert.ok(w.ok);
  await applyOk(store, [put(service('a'))]);
  w.value.close();
  await applyOk(store, [put(service('b'))]);
  assert.equal(seen.length, 1);
});

test('a throwing watcher does not fail the apply nor starve other watchers', async () => {
  const store = createMemoryStore();
  assert.ok(
    store.watch(0, () => {
      throw new Error('watcher bug');
    }).ok,
  );
  const seen: number[] = [];
  assert.ok(store.watch(0, (e) => seen.push(e.revision)).ok);
  await applyOk(store, [put(service('a'))]);
  assert.deepEqual(seen, [1]);
});

test('close waits for batches already queued, then refuses new ones with STORE_CLOSED', async () => {
  const store = createMemoryStore();
  const queued = store.apply([put(service('a'))]);
  const closed = store.close();
  assert.ok((await queued).ok);
  await closed;
  const after = await store.apply([put(service('b'))]);
  assert.ok(!after.ok && after.error.code === 'STORE_CLOSED');
  assert.equal(store.health().ok, false);
});
