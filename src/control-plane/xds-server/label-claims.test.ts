// Which labels a join token lets its proxy claim.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLabelClaims } from './label-claims.js';
import type { StreamPrincipal } from './stream-security.js';

const evil: StreamPrincipal = { tokenId: 'aaaaaaaaaaaa', service: 'evil', namespace: 'default' };
const reviewsV2: StreamPrincipal = { tokenId: 'bbbbbbbbbbbb', service: 'reviews', namespace: 'default', labels: { version: 'v2' } };
const appOnly: StreamPrincipal = { tokenId: 'cccccccccccc', service: 'web', namespace: 'default', labels: {} };

const cases: [string, StreamPrincipal, Record<string, string>, RegExp | undefined][] = [
  ['no labels', evil, {}, undefined],
  ["app as the token's service", evil, { app: 'evil' }, undefined],
  ['any other label when the token names none', evil, { version: 'v9', tier: 'db' }, undefined],
  [
    'app of another service',
    evil,
    { app: 'payments' },
    /^label app=payments is not allowed: join token aaaaaaaaaaaa is for service evil in namespace default and allows app=evil and any other label$/,
  ],
  ['a label the token names, with its value', reviewsV2, { version: 'v2' }, undefined],
  ['a label the token names, with another value', reviewsV2, { version: 'v3' }, /label version=v3 is not allowed: .* allows only app=reviews, version=v2$/],
  ['a label the token does not name', reviewsV2, { version: 'v2', tier: 'db' }, /label tier=db is not allowed/],
  ['a prototype key', reviewsV2, { constructor: 'x' }, /label constructor=x is not allowed/],
  ['anything but app with an empty label list', appOnly, { version: 'v1' }, /label version=v1 is not allowed: .* allows only app=web$/],
];

for (const [name, principal, labels, refused] of cases) {
  test(`label claims: ${name}`, () => {
    const r = checkLabelClaims(principal, labels);
    if (refused === undefined) assert.deepEqual(r, { ok: true, value: undefined });
    else {
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, refused);
    }
  });
}
