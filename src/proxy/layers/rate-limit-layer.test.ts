// The rate limit layer: one token bucket per route rate limit config, starting full; a request
// that finds it empty is a 429 RATE_LIMITED; whole fills come back as time passes.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { RateLimitConfig } from '../config/resilience-config.js';
import { compiledRoute, fakeRequest, NextRecorder } from '../testing/http-fakes.js';
import { rateLimitLayer } from './rate-limit-layer.js';

/** The token bucket reads performance.now(): time is the test's. */
function fakeClock(t: TestContext): { advance(ms: number): void } {
  let now = 1_000;
  t.mock.method(performance, 'now', () => now);
  return { advance: (ms) => void (now += ms) };
}

function send(config: RateLimitConfig | undefined): { passed: boolean; status: number; code: string | undefined } {
  const next = new NextRecorder();
  const { ctx, down } = fakeRequest({ route: compiledRoute(config === undefined ? {} : { rateLimit: config }) });
  rateLimitLayer.request(ctx, next.handler);
  return { passed: next.calls.length === 1, status: down.response?.status ?? 0, code: down.response?.headers['x-trellis-error'] };
}

test('a route without a rate limit passes every request', () => {
  for (let i = 0; i < 100; i++) assert.equal(send(undefined).passed, true);
});

test('the bucket starts full; the request that finds it empty is a 429 RATE_LIMITED', (t) => {
  fakeClock(t);
  const config: RateLimitConfig = { maxTokens: 3, tokensPerFill: 1, fillIntervalMs: 1000 };
  for (let i = 0; i < 3; i++) assert.equal(send(config).passed, true, `request ${i}`);
  assert.deepEqual(send(config), { passed: false, status: 429, code: 'RATE_LIMITED' });
  const { ctx, down } = fakeRequest({ route: compiledRoute({ rateLimit: config }) });
  rateLimitLayer.request(ctx, () => assert.fail('passed on'));
  assert.equal(down.response?.body, 'route all/r is over its local rate limit (1 requests per 1000 ms)\n');
});

test('tokens come back a fill at a time, never more than maxTokens', (t) => {
  const clock = fakeClock(t);
  const config: RateLimitConfig = { maxTokens: 2, tokensPerFill: 1, fillIntervalMs: 1000 };
  assert.equal(send(config).passed, true);
  assert.equal(send(config).passed, true);
  assert.equal(send(config).passed, false);
  clock.advance(999);
  assert.equal(send(config).passed, false, 'no whole fill yet');
  clock.advance(1);
  assert.equal(send(config).passed, true, 'one token after one interval');
  assert.equal(send(config).passed, false);
  clock.advance(60_000);
  assert.equal(send(config).passed, true);
  assert.equal(send(config).passed, true);
  assert.equal(send(config).passed, false, 'a long pause refills to maxTokens only');
});

test('each rate limit config is a bucket of its own, shared by the requests of all routes that carry it', (t) => {
  fakeClock(t);
  const a: RateLimitConfig = { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 1000 };
  const b: RateLimitConfig = { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 1000 };
  assert.equal(send(a).passed, true);
  assert.equal(send(a).passed, false);
  assert.equal(send(b).passed, true, 'another config (another destination) has its own bucket');
});
