// The outbound policy Refuse: a connection to BlackHoleCluster is counted by its detected
// protocol and refused with OUTBOUND_REFUSED naming the original destination; other clusters pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLACKHOLE_CLUSTER } from '../../../xds/names.js';
import { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { EndRecorder, fakeCluster, fakeConnection, ServeRecorder } from '../../testing/tcp-fakes.js';
import type { ClusterTarget } from '../tcp-layer.js';
import { TcpBlackholeLayer } from './tcp-blackhole-layer.js';

test('a connection to another cluster passes down untouched', async () => {
  const metrics = new ProxyMetrics();
  const t = { conn: fakeConnection(), cluster: fakeCluster('db') };
  const next = new ServeRecorder<ClusterTarget>();
  const up = new EndRecorder<ClusterTarget>();
  new TcpBlackholeLayer(metrics, undefined).onConnection(t, next, up);
  assert.deepEqual(next.served, [t]);
  assert.equal(up.ends.length, 0);
  assert.doesNotMatch(await metrics.text(), /trellis_outbound_refused_total\{/);
});

test('a connection to BlackHoleCluster is refused with OUTBOUND_REFUSED and counted by protocol', async () => {
  const metrics = new ProxyMetrics();
  const t = { conn: fakeConnection({ originalDst: { address: '203.0.113.7', port: 443 }, detected: 'http/1.1' }), cluster: fakeCluster(BLACKHOLE_CLUSTER) };
  const next = new ServeRecorder<ClusterTarget>();
  const up = new EndRecorder<ClusterTarget>();
  new TcpBlackholeLayer(metrics, undefined).onConnection(t, next, up);
  assert.equal(next.served.length, 0);
  assert.equal(up.ends.length, 1);
  assert.equal(up.ends[0]!.target, t);
  const refused = up.ends[0]!.end.refused!;
  assert.equal(refused.code, 'OUTBOUND_REFUSED');
  assert.match(refused.message, /203\.0\.113\.7:443/);
  assert.equal(t.conn.socket.destroyed, false, 'the close layer closes it');
  assert.match(await metrics.text(), /trellis_outbound_refused_total\{protocol="http\/1.1"\} 1/);
});

test('an undetected connection is counted as opaque', async () => {
  const metrics = new ProxyMetrics();
  new TcpBlackholeLayer(metrics, undefined).onConnection(
    { conn: fakeConnection({ originalDst: { address: '203.0.113.7', port: 5432 } }), cluster: fakeCluster(BLACKHOLE_CLUSTER) },
    new ServeRecorder(),
    new EndRecorder(),
  );
  assert.match(await metrics.text(), /trellis_outbound_refused_total\{protocol="opaque"\} 1/);
});
