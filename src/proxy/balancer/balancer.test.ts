// Balancer policies: round robin order, least request's preference for the less loaded of
// two random choices, health filtering, and the registry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBalancer, hash32, registerBalancer, registeredBalancers, WeightedChoice, type BalancerEndpoint } from './index.js';

interface Fake {
  name: string;
  active: number;
}
const ep = (name: string, healthy = true, active = 0): BalancerEndpoint<Fake> => ({ target: { name, active }, healthy, weight: 1 });

test('round robin visits every endpoint once per cycle, in order', () => {
  const b = createBalancer('round_robin', [ep('a'), ep('b'), ep('c')]);
  const picks = Array.from({ length: 9 }, () => b.pick()!.name);
  const start = picks[0]!;
  const order = ['a', 'b', 'c'];
  const i = order.indexOf(start);
  const expected = Array.from({ length: 9 }, (_, k) => order[(i + k) % 3]);
  assert.deepEqual(picks, expected);
});

test('round robin with one endpoint always picks it', () => {
  const b = createBalancer('round_robin', [ep('only')]);
  for (let i = 0; i < 5; i++) assert.equal(b.pick()?.name, 'only');
});

test('every policy skips unhealthy endpoints', () => {
  for (const policy of ['round_robin', 'least_request']) {
    const b = createBalancer(policy, [ep('sick', false), ep('well'), ep('ill', false)]);
    for (let i = 0; i < 50; i++) assert.equal(b.pick()?.name, 'well', policy);
  }
});

test('every policy uses all endpoints when none is healthy', () => {
  for (const policy of ['round_robin', 'least_request']) {
    const b = createBalancer(policy, [ep('a', false), ep('b', false)]);
    const seen = new Set(Array.from({ length: 100 }, () => b.pick()?.name));
    assert.deepEqual([...seen].sort(), ['a', 'b'], policy);
  }
});

test('every policy picks nothing from an empty set', () => {
  for (const policy of ['round_robin', 'least_request']) assert.equal(createBalancer(policy, []).pick(), undefined);
});

test('least request with one endpoint picks it whatever its load', () => {
  const b = createBalancer('least_request', [ep('only', true, 100)]);
  assert.equal(b.pick()?.name, 'only');
});

test('least request never picks the most loaded of two', () => {
  const b = createBalancer('least_request', [ep('busy', true, 10), ep('idle', true, 0)]);
  for (let i = 0; i < 100; i++) assert.equal(b.pick()?.name, 'idle');
});

test('least request prefers less loaded endpoints across many picks', () => {
  const endpoints = [ep('l0', true, 0), ep('l5', true, 5), ep('l10', true, 10), ep('l20', true, 20)];
  const b = createBalancer('least_request', endpoints);
  const counts = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const n = b.pick()!.name;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  // P2C: the least loaded wins every pair it is in (1/2 of picks), the most loaded never.
  assert.equal(counts.get('l20') ?? 0, 0);
  assert.ok(counts.get('l0')! > 1800 && counts.get('l0')! < 2200, `l0 got ${counts.get('l0')}`);
  assert.ok(counts.get('l0')! > counts.get('l5')! && counts.get('l5')! > counts.get('l10')!);
});

test('least request sees load changes without being rebuilt', () => {
  const a = { name: 'a', active: 0 };
  const b = { name: 'b', active: 5 };
  const lb = createBalancer('least_request', [
    { target: a, healthy: true, weight: 1 },
    { target: b, healthy: true, weight: 1 },
  ]);
  assert.equal(lb.pick(), a);
  a.active = 9;
  assert.equal(lb.pick(), b);
});

test('an unregistered policy is refused with the known ones', () => {
  assert.throws(() => createBalancer('maglev', [ep('a')]), /policy "maglev" is not registered; expected one of .*round_robin.*least_request.*random.*ring_hash/);
});

test('a registered policy can be created by name', () => {
  registerBalancer('first_test', <T extends { active: number }>(candidates: readonly T[]) => ({ pick: () => candidates[0] }));
  assert.ok(registeredBalancers().includes('first_test'));
  assert.equal(createBalancer('first_test', [ep('x'), ep('y')]).pick()?.name, 'x');
});

test('weighted choice follows weights and ignores zero ones', () => {
  const c = new WeightedChoice([
    { item: 'a', weight: 3 },
    { item: 'b', weight: 1 },
    { item: 'z', weight: 0 },
  ]);
  const counts: Record<string, number> = { a: 0, b: 0, z: 0 };
  for (let i = 0; i < 4000; i++) counts[c.pick()!]!++;
  assert.equal(counts.z, 0);
  assert.ok(Math.abs(counts.b! - 1000) < 150, `b got ${counts.b}`);
});

test('weighted choice with all weights zero picks nothing', () => {
  assert.equal(new WeightedChoice([{ item: 'a', weight: 0 }]).pick(), undefined);
  assert.equal(new WeightedChoice([]).pick(), undefined);
});

const POLICIES = ['round_robin', 'least_request', 'random', 'ring_hash'];
const named = (names: string[]) => names.map((n) => ({ target: { name: n, active: 0, key: `${n}:80` }, healthy: true, weight: 1 }));

test('every policy avoids the endpoints a retry already tried while another is left', () => {
  for (const policy of POLICIES) {
    const members = named(['a', 'b', 'c', 'd']);
    const [a, b, c, d] = members.map((m) => m.target);
    const lb = createBalancer(policy, members);
    for (let i = 0; i < 200; i++) {
      const hash = i * 21_474_836;
      assert.ok(![a, b].includes(lb.pick(hash, [a!, b!])), policy);
      assert.equal(lb.pick(hash, [a!, b!, c!]), d, policy);
    }
  }
});

test('every policy picks as usual once every endpoint was tried', () => {
  for (const policy of POLICIES) {
    const members = named(['a', 'b', 'c']);
    const lb = createBalancer(policy, members);
    const all = members.map((m) => m.target);
    const seen = new Set(Array.from({ length: 300 }, (_, i) => lb.pick(i * 14_316_557, all)?.name));
    assert.deepEqual([...seen].sort(), ['a', 'b', 'c'], policy);
  }
});

test('ring hash: a retry lands where the key would go if the tried endpoint were gone', () => {
  const members = named(['a', 'b', 'c', 'd', 'e']);
  const lb = createBalancer('ring_hash', members);
  for (let i = 0; i < 100; i++) {
    const key = hash32(`user-${i}`);
    const first = lb.pick(key)!;
    const without = createBalancer(
      'ring_hash',
      members.filter((m) => m.target !== first),
    );
    assert.equal(lb.pick(key, [first])!.name, without.pick(key)!.name);
    assert.equal(lb.pick(key, [])!.name, first.name, 'nothing tried: the key keeps its endpoint');
  }
});

test('round robin goes on in order past tried endpoints, and keeps its rotation', () => {
  const members = named(['a', 'b', 'c']);
  const [a, b, c] = members.map((m) => m.target);
  const lb = createBalancer('round_robin', members);
  const order = [a, b, c];
  const start = lb.pick()!;
  const at = order.indexOf(start);
  // Next in turn is order[at+1]; avoiding it takes the one after, and rotation resumes past that.
  assert.equal(lb.pick(undefined, [order[(at + 1) % 3]!]), order[(at + 2) % 3]);
  assert.equal(lb.pick(), order[at % 3]);
});

test('least request compares two untried endpoints', () => {
  const members = [
    { target: { name: 'tried', active: 0 }, healthy: true, weight: 1 },
    { target: { name: 'busy', active: 9 }, healthy: true, weight: 1 },
    { target: { name: 'idle', active: 1 }, healthy: true, weight: 1 },
  ];
  const lb = createBalancer('least_request', members);
  for (let i = 0; i < 100; i++) assert.equal(lb.pick(undefined, [members[0]!.target])?.name, 'idle');
});
