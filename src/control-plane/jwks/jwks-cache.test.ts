// The JWKS cache with a fake source and fake timers: keys obtained on sync and published;
// refreshed on the interval, a max-age honoured within bounds; a failure keeps the last keys and
// retries with backoff; a source never obtained is published with its error; a source no
// RequestAuthentication names any more is stopped and dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestAuthentication } from '../../api/resource.js';
import { createLogger } from '../../common/log.js';
import { err, ok, type Result } from '../../common/result.js';
import { JwksCache, type JwksSource } from './jwks-cache.js';
import type { FetchedKeys } from './jwks-fetch.js';

const URI = 'https://id.example.com/jwks';
const ra = (jwtRules: RequestAuthentication['spec']['jwtRules']): RequestAuthentication => ({
  apiVersion: 'trellis.dev/v1alpha1',
  kind: 'RequestAuthentication',
  metadata: { name: 'users', namespace: 'default' },
  spec: { jwtRules },
});
const KEYS = (n: number) => JSON.stringify({ keys: [{ kty: 'EC', kid: `k${n}` }] });

/** Sources whose next answers the test sets, per URL or file; counts what was asked. */
function fakeSource() {
  const answers = new Map<string, Result<FetchedKeys, string>[]>();
  const asked: string[] = [];
  return {
    answer: (key: string, ...results: Result<FetchedKeys, string>[]) => answers.set(key, [...(answers.get(key) ?? []), ...results]),
    asked,
    obtain: (s: JwksSource) => {
      asked.push(s.key);
      return Promise.resolve(answers.get(s.key)?.shift() ?? err('no answer'));
    },
  };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

test('keys are obtained on sync, refreshed every interval, kept with backoff after a failure, and pushed on change only', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const src = fakeSource();
  let changes = 0;
  const cache = new JwksCache({ refreshMs: 60_000, onChange: () => changes++, logger: createLogger('test.jwks'), obtain: src.obtain });
  t.after(() => cache.close());
  src.answer(URI, ok({ json: KEYS(1) }), ok({ json: KEYS(1) }), err('GET answered 503'), err('GET answered 503'), ok({ json: KEYS(2) }));
  cache.sync([ra([{ issuer: 'a', jwksUri: URI, forwardOriginalToken: false }])]);
  await flush();
  assert.deepEqual(cache.snapshot.get(URI), { json: KEYS(1) });
  assert.equal(changes, 1);
  t.mock.timers.tick(60_000);
  await flush();
  assert.equal(src.asked.length, 2);
  assert.equal(changes, 1, 'the same keys again push nothing');
  t.mock.timers.tick(60_000);
  await flush();
  assert.deepEqual(cache.snapshot.get(URI), { json: KEYS(1), error: 'GET answered 503' }, 'the last keys stay');
  assert.equal(changes, 2);
  t.mock.timers.tick(999);
  await flush();
  assert.equal(src.asked.length, 3, 'not before the first backoff (1 s)');
  t.mock.timers.tick(1);
  await flush();
  assert.equal(src.asked.length, 4);
  t.mock.timers.tick(2000);
  await flush();
  assert.equal(src.asked.length, 5, 'the second retry after 2 s');
  assert.deepEqual(cache.snapshot.get(URI), { json: KEYS(2) });
});

test('a max-age is honoured within bounds; a source never obtained is published with its error; a source no longer named is dropped', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const src = fakeSource();
  const cache = new JwksCache({ refreshMs: 20 * 60_000, onChange: () => {}, logger: createLogger('test.jwks'), obtain: src.obtain });
  t.after(() => cache.close());
  src.answer(URI, ok({ json: KEYS(1), maxAgeSeconds: 5 }), ok({ json: KEYS(1), maxAgeSeconds: 300 }), ok({ json: KEYS(1) }));
  src.answer('/etc/jwks.json', err('cannot read /etc/jwks.json: ENOENT'));
  cache.sync([
    ra([
      { issuer: 'a', jwksUri: URI, forwardOriginalToken: false },
      { issuer: 'b', jwksFile: '/etc/jwks.json', forwardOriginalToken: false },
    ]),
  ]);
  await flush();
  assert.deepEqual(cache.snapshot.get('/etc/jwks.json'), { error: 'cannot read /etc/jwks.json: ENOENT' });
  const uriAsks = () => src.asked.filter((k) => k === URI).length;
  t.mock.timers.tick(59_999);
  await flush();
  assert.equal(uriAsks(), 1, 'max-age 5 s is raised to the 1 min floor');
  t.mock.timers.tick(1);
  await flush();
  assert.equal(uriAsks(), 2);
  t.mock.timers.tick(300_000);
  await flush();
  assert.equal(uriAsks(), 3, 'max-age 300 s is honoured');
  cache.sync([ra([{ issuer: 'a', jwksUri: URI, forwardOriginalToken: false }])]);
  assert.equal(cache.snapshot.has('/etc/jwks.json'), false);
  cache.sync([]);
  assert.equal(cache.snapshot.size, 0);
  const before = src.asked.length;
  t.mock.timers.tick(3_600_000);
  await flush();
  assert.equal(src.asked.length, before, 'a dropped source is not asked again');
});
