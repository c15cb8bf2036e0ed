import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SECRET_TYPE } from '../../xds/type-urls.js';
import { decodeSecrets } from './sds.js';

const secret = (name: string, tlsCertificate: object) => ({ '@type': SECRET_TYPE, name, tlsCertificate });

test('a gateway~ secret carries its chain and key', () => {
  const r = decodeSecrets([secret('gateway~web~shop', { certificateChain: { inlineString: 'CHAIN' }, privateKey: { inlineString: 'KEY' } })]);
  assert.deepEqual(r, { ok: true, value: new Map([['gateway~web~shop', { chain: 'CHAIN', key: 'KEY' }]]) });
});

test('a gateway~ secret without its key is refused; the workload secret with a key still is', () => {
  assert.deepEqual(decodeSecrets([secret('gateway~web~shop', { certificateChain: { inlineString: 'CHAIN' } })]), {
    ok: false,
    error: 'secret gateway~web~shop.tlsCertificate.privateKey.inlineString: required (a gateway certificate comes with its key)',
  });
  const r = decodeSecrets([secret('default', { certificateChain: { inlineString: 'CHAIN' }, privateKey: { inlineString: 'KEY' } })]);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error, /carries a private key; Trellis proxies make their own/);
});

test('a key-carrying secret under another name is unknown', () => {
  const r = decodeSecrets([secret('shop-cert', { certificateChain: { inlineString: 'C' }, privateKey: { inlineString: 'K' } })]);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error, /unknown secret "shop-cert" \(expected default, ROOTCA or gateway~NAMESPACE~NAME\)/);
});
