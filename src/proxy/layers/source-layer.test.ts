// The source layer: outbound the caller is this proxy (authenticated), named to the next hop in
// x-trellis-source; inbound the caller's SPIFFE ID names the service (the header may add only
// its workload), a plaintext caller's header is kept as unauthenticated. Always passed on.
// (telemetry-layers.test.ts covers the peer and header cases in depth, and through a data plane.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeRequest, NextRecorder, testTelemetry, type FakeRequestOptions } from '../testing/http-fakes.js';
import { sourceLayer } from './source-layer.js';

function run(o: FakeRequestOptions) {
  const next = new NextRecorder();
  const { ctx } = fakeRequest(o);
  sourceLayer(testTelemetry()).request(ctx, next.handler);
  assert.deepEqual(next.calls, [ctx]);
  return { source: [ctx.sourceService, ctx.sourceWorkload, ctx.sourceAuthenticated], upstreamHeaders: ctx.upstreamHeaders };
}

test("outbound: this proxy is the source, and the next hop is told in x-trellis-source (replacing the app's)", () => {
  const { source, upstreamHeaders } = run({ headers: { 'x-trellis-source': 'forged.default/x' } });
  assert.deepEqual(source, ['web.default', 'web-v1', true]);
  assert.deepEqual(upstreamHeaders, ['x-trellis-source', 'web.default/web-v1']);
});

test('inbound over mTLS: the service from the SPIFFE ID, the workload from a header of the same service', () => {
  const peer = 'spiffe://trellis.local/ns/shop/sa/cart';
  assert.deepEqual(run({ listener: { direction: 'inbound' }, peerIdentity: peer, headers: { 'x-trellis-source': 'cart.shop/cart-v2' } }).source, ['cart.shop', 'cart-v2', true]);
  assert.deepEqual(run({ listener: { direction: 'inbound' }, peerIdentity: peer, headers: { 'x-trellis-source': 'admin.ops/admin' } }).source, ['cart.shop', 'unknown', true]);
});

test("inbound plaintext: the header as the caller's unauthenticated claim; none is unknown; nothing added upstream", () => {
  const claimed = run({ listener: { direction: 'inbound' }, headers: { 'x-trellis-source': 'cart.shop/cart-v2' } });
  assert.deepEqual(claimed.source, ['cart.shop', 'cart-v2', false]);
  assert.equal(claimed.upstreamHeaders, undefined);
  assert.deepEqual(run({ listener: { direction: 'inbound' } }).source, ['unknown', 'unknown', false]);
});
