// The TCP stack as composed for the listeners, on in-memory sockets: a denied connection is
// closed and its owner told, a refused outbound one is answered, and a relayed one is counted
// and its end reaches the owner after the metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WeightedChoice } from '../balancer/index.js';
import type { AuthzRules } from '../config/authz-config.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { chainScope, FakeSocket, fakeCluster, fakeEndpoint } from '../testing/tcp-fakes.js';
import { BLACKHOLE_CLUSTER } from '../../xds/names.js';
import { TcpConnection, type Destination, type TcpChainScope, type TcpEnd } from './tcp-layer.js';
import { buildTcpStack } from './tcp-stack.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

function serve(scope: TcpChainScope, opts: { peer?: string; originalDst?: Destination } = {}) {
  const metrics = new ProxyMetrics();
  const socket = new FakeSocket();
  const ends: TcpEnd[] = [];
  const owner = { connectionEnded: (_c: TcpConnection, end: TcpEnd) => void ends.push(end) };
  buildTcpStack({ metrics }).serve(new TcpConnection(socket.asSocket(), scope, owner, opts.peer, opts.originalDst, opts.originalDst ? 'opaque' : undefined));
  return { metrics, socket, ends };
}

test('a denied connection is closed, counted, and its owner told', async () => {
  const deny: AuthzRules = { action: 'deny', policies: [{ name: 'default/p/rules[0]', principals: [{ any: true }], permissions: [{ any: true }] }] };
  const { metrics, socket, ends } = serve(chainScope({ authz: [deny] }));
  assert.equal(socket.destroyed, true);
  assert.equal(ends.length, 1);
  assert.equal(ends[0]!.refused?.code, 'FORBIDDEN');
  const text = await metrics.text();
  assert.match(text, /trellis_authz_decisions_total\{direction="outbound",listener="db",decision="deny",policy="default\/p\/rules\[0\]"\} 1/);
  assert.doesNotMatch(text, /trellis_tcp_connections_total\{/);
});

test('a connection to BlackHoleCluster is reset and counted as refused', async () => {
  const { metrics, socket, ends } = serve(chainScope({ backends: new WeightedChoice([{ item: fakeCluster(BLACKHOLE_CLUSTER), weight: 1 }]) }), {
    originalDst: { address: '203.0.113.7', port: 5432 },
  });
  assert.equal(socket.resets, 1);
  assert.equal(ends[0]!.refused?.code, 'OUTBOUND_REFUSED');
  assert.match(await metrics.text(), /trellis_outbound_refused_total\{protocol="opaque"\} 1/);
});

test('a relayed connection is counted, and its owner hears the end with its bytes', async () => {
  const upstream = new FakeSocket();
  const { metrics, socket, ends } = serve(chainScope({ backends: new WeightedChoice([{ item: fakeCluster('db', [fakeEndpoint(upstream)]), weight: 1 }]) }));
  assert.match(await metrics.text(), /trellis_tcp_connections_total\{direction="outbound",service="db.default"\} 1/);
  socket.receive('ping');
  socket.receive(null);
  upstream.receive('pong!');
  upstream.receive(null);
  await settle();
  assert.equal(ends.length, 1);
  assert.equal(ends[0]!.refused, undefined);
  assert.equal(ends[0]!.received, 4);
  assert.equal(ends[0]!.sent, 5);
  assert.match(await metrics.text(), /trellis_tcp_bytes_total\{direction="outbound",service="db.default",flow="sent"\} 5/);
});
