// The TCP balance layer: the endpoint stage's target from the cluster's balancer, or a captured
// connection's original destination for an ORIGINAL_DST cluster (mTLS only with an identity);
// no endpoint is refused with NO_HEALTHY_ENDPOINT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TlsSource } from '../../identity/proxy-identity.js';
import { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { EndRecorder, fakeCluster, fakeConnection, fakeEndpoint, ServeRecorder } from '../../testing/tcp-fakes.js';
import { OriginalDestination } from '../original-destination.js';
import type { ClusterTarget, EndpointTarget } from '../tcp-layer.js';
import { TcpBalanceLayer } from './tcp-balance-layer.js';

const source: TlsSource = { context: () => undefined, contextOptions: () => undefined, generation: 0 };

function run(t: ClusterTarget, tlsSource?: TlsSource) {
  const next = new ServeRecorder<EndpointTarget>();
  const up = new EndRecorder<ClusterTarget>();
  new TcpBalanceLayer(new ProxyMetrics(), tlsSource).onConnection(t, next, up);
  return { next, up };
}

test('the balancer picks the endpoint', () => {
  const endpoint = fakeEndpoint();
  const t = { conn: fakeConnection(), cluster: fakeCluster('db', [endpoint]) };
  const { next, up } = run(t);
  assert.deepEqual(next.served, [{ conn: t.conn, cluster: t.cluster, endpoint }]);
  assert.equal(up.ends.length, 0);
});

test('a cluster without endpoints is refused with NO_HEALTHY_ENDPOINT', () => {
  const t = { conn: fakeConnection(), cluster: fakeCluster('db', []) };
  const { next, up } = run(t);
  assert.equal(next.served.length, 0);
  assert.equal(up.ends[0]!.target, t);
  assert.equal(up.ends[0]!.end.refused?.code, 'NO_HEALTHY_ENDPOINT');
});

test('an ORIGINAL_DST cluster relays a captured connection to its original destination', () => {
  const t = { conn: fakeConnection({ originalDst: { address: '10.2.0.8', port: 8080 } }), cluster: fakeCluster('PassthroughCluster', [], { originalDst: true }) };
  const { next } = run(t);
  const endpoint = next.served[0]!.endpoint;
  assert.ok(endpoint instanceof OriginalDestination);
  assert.equal(endpoint.key, '10.2.0.8:8080');
  assert.equal(endpoint.active, 0);
});

test('an ORIGINAL_DST cluster keeps the IPv6 destination bracketed in its key', () => {
  const t = { conn: fakeConnection({ originalDst: { address: 'fd00::8', port: 8080 } }), cluster: fakeCluster('PassthroughCluster', [], { originalDst: true }) };
  assert.equal(run(t).next.served[0]!.endpoint.key, '[fd00::8]:8080');
});

test('an ORIGINAL_DST cluster with mTLS is refused when the proxy has no identity, served when it has one', () => {
  const cluster = fakeCluster('PassthroughCluster|web.default', [], { originalDst: true, tls: { sans: ['spiffe://mesh/ns/default/sa/web'] } });
  const conn = fakeConnection({ originalDst: { address: '10.2.0.8', port: 9090 } });
  const without = run({ conn, cluster });
  assert.equal(without.next.served.length, 0);
  assert.equal(without.up.ends[0]!.end.refused?.code, 'NO_HEALTHY_ENDPOINT');
  const withIdentity = run({ conn, cluster }, source);
  assert.equal(withIdentity.next.served[0]!.endpoint.key, '10.2.0.8:9090');
});

test('a connection without an original destination (a TCP listener) asks the balancer even of an ORIGINAL_DST cluster', () => {
  const t = { conn: fakeConnection(), cluster: fakeCluster('PassthroughCluster', [], { originalDst: true }) };
  assert.equal(run(t).up.ends[0]!.end.refused?.code, 'NO_HEALTHY_ENDPOINT');
});

test('the end of the endpoint target goes up unchanged', () => {
  const t = { conn: fakeConnection(), cluster: fakeCluster('db'), endpoint: fakeEndpoint() };
  const up = new EndRecorder<ClusterTarget>();
  const end = { received: 1, sent: 1, durationMs: 1 };
  new TcpBalanceLayer(new ProxyMetrics(), undefined).onEnd(t, end, up);
  assert.deepEqual(up.ends, [{ target: t, end }]);
});
