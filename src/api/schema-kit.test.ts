import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { assertProblem } from './problem-assert.js';
import { checked, closedObject, fieldOf, parseWithSchema, stringMap, uniqueItems } from './schema-kit.js';

const item = closedObject({ name: z.string(), weight: z.int().min(0).max(10).default(1), tags: z.array(z.string()).max(2).optional() }, { filters: 'not implemented' });
const list = uniqueItems(z.array(item).min(1), 'items', ['name'], (x) => fieldOf(x, 'name') as string | undefined, 'item name');
const schema = closedObject({ items: list, kind: z.enum(['A', 'B']).optional(), label: z.string().optional() });

const cases: [string, unknown, string, string][] = [
  ['a missing field is "required"', { items: [{}] }, 'items[0].name', 'required'],
  ['a number below the minimum names bound and value', { items: [{ name: 'a', weight: -1 }] }, 'items[0].weight', 'must be >= 0, got -1'],
  ['a number above the maximum names bound and value', { items: [{ name: 'a', weight: 11 }] }, 'items[0].weight', 'must be <= 10, got 11'],
  ['a fraction where an integer belongs', { items: [{ name: 'a', weight: 1.5 }] }, 'items[0].weight', 'must be an integer, got 1.5'],
  ['a string where a number belongs', { items: [{ name: 'a', weight: '1' }] }, 'items[0].weight', 'got "1"'],
  ['a list where a map belongs', { items: [[]] }, 'items[0]', 'must be a map, got a list'],
  ['an empty list under a minimum', { items: [] }, 'items', 'must have at least 1 item(s), got 0'],
  ['a list over its maximum', { items: [{ name: 'a', tags: ['x', 'y', 'z'] }] }, 'items[0].tags', 'must have at most 2 item(s), got 3'],
  ['a value outside an enum lists the choices', { items: [{ name: 'a' }], kind: 'C' }, 'kind', 'must be one of "A", "B", got "C"'],
  ['a number where a string belongs says to quote it', { items: [{ name: 'a' }], label: 1 }, 'label', 'quote it in YAML: "1"'],
  ['an unknown field is named', { items: [{ name: 'a', colour: 1 }] }, 'items[0].colour', 'unknown field "colour"'],
  ['a misspelt field gets a suggestion', { items: [{ name: 'a', weigth: 1 }] }, 'items[0].weigth', 'did you mean "weight"?'],
  ['a field in the wrong case gets a suggestion', { items: [{ Name: 'a' }] }, 'items[0].Name', 'did you mean "name"?'],
  ['a recognised but unsupported field says why', { items: [{ name: 'a', filters: [] }] }, 'items[0].filters', 'field "filters" is not supported: not implemented'],
  ['a duplicate key in a list names the first use', { items: [{ name: 'a' }, { name: 'a' }] }, 'items[1].name', 'duplicate item name "a", already used by items[0]'],
];

for (const [name, raw, path, fragment] of cases) {
  test(`problems: ${name}`, () => assertProblem(parseWithSchema(schema, raw), path, fragment));
}

test('unknown fields get no far-fetched suggestion', () => {
  const r = parseWithSchema(schema, { items: [{ name: 'a', zzzzzz: 1 }] });
  assertProblem(r, 'items[0].zzzzzz', 'unknown field "zzzzzz"');
  assert.equal(!r.ok && r.error[0]!.message.includes('did you mean'), false);
});

test('several unknown fields in one object are separate problems', () => {
  const r = parseWithSchema(schema, { items: [{ name: 'a', x: 1, y: 2 }] });
  assert.equal(r.ok, false);
  if (!r.ok)
    assert.deepEqual(
      r.error.map((p) => p.path),
      ['items[0].x', 'items[0].y'],
    );
});

test('every problem is collected, not just the first', () => {
  const r = parseWithSchema(schema, { items: [{ name: 'a', weight: -1 }, { weight: 'x' }, { name: 'a' }], kind: 'C', extra: true });
  assert.equal(r.ok, false);
  if (!r.ok) assert.deepEqual(r.error.map((p) => p.path).sort(), ['extra', 'items[0].weight', 'items[1].name', 'items[1].weight', 'items[2].name', 'kind']);
});

test('duplicates are found even when another item is malformed', () => {
  const r = parseWithSchema(schema, { items: [{ name: 'a' }, { name: 'a' }, { name: 3 }] });
  assertProblem(r, 'items[1].name', 'duplicate');
  assertProblem(r, 'items[2].name', 'must be a string');
});

test('defaults are applied to a valid value', () => {
  const r = parseWithSchema(schema, { items: [{ name: 'a' }] });
  assert.deepEqual(r, { ok: true, value: { items: [{ name: 'a', weight: 1 }] } });
});

test('checked adds our message; a base path prefixes every problem', () => {
  const even = checked(z.int(), (n) => (n % 2 === 0 ? undefined : `must be even, got ${n}`));
  assertProblem(parseWithSchema(closedObject({ n: even }), { n: 3 }, ['spec']), 'spec.n', 'must be even, got 3');
});

test('stringMap checks keys and values, with odd keys quoted in the path', () => {
  const map = stringMap(
    (k) => (k.includes(' ') ? 'bad key' : undefined),
    (v) => (v === '' ? 'bad value' : undefined),
  );
  const r = parseWithSchema(closedObject({ m: map }), { m: { 'a b': 'x', c: '', d: 1 } });
  assertProblem(r, 'm["a b"]', 'bad key');
  assertProblem(r, 'm.c', 'bad value');
  assertProblem(r, 'm.d', 'must be a string, got 1');
});
