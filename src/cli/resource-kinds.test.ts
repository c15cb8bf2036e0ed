// The kind words the CLI accepts and the API names they map to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindSlashName, pluralOf, resolveGetTarget, resolveKind } from './resource-kinds.js';

for (const [word, kind] of [
  ['svc', 'Service'],
  ['service', 'Service'],
  ['Services', 'Service'],
  ['httproute', 'HTTPRoute'],
  ['HTTPRoutes', 'HTTPRoute'],
  ['meshconfig', 'MeshConfig'],
  ['meshconfigs', 'MeshConfig'],
] as const) {
  test(`"${word}" names ${kind}`, () => assert.equal(resolveKind(word), kind));
}

test('unknown words and inherited property names name no kind', () => {
  assert.equal(resolveKind('deployment'), undefined);
  assert.equal(resolveKind('constructor'), undefined);
});

test('get also knows proxies', () => {
  assert.deepEqual(resolveGetTarget('proxies'), { proxies: true });
  assert.deepEqual(resolveGetTarget('proxy'), { proxies: true });
  assert.deepEqual(resolveGetTarget('svc'), { kind: 'Service' });
});

test('plurals match the REST API paths and names print kubectl-style', () => {
  assert.deepEqual([pluralOf('Service'), pluralOf('HTTPRoute'), pluralOf('MeshConfig')], ['services', 'httproutes', 'meshconfigs']);
  assert.equal(kindSlashName('HTTPRoute', 'reviews'), 'httproute/reviews');
});
