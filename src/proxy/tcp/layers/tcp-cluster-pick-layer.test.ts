// The TCP cluster pick: the weighted split chooses the cluster stage's target; all weights
// zero is refused with NO_BACKEND; the end goes up as the connection's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WeightedChoice } from '../../balancer/index.js';
import { chainScope, EndRecorder, fakeCluster, fakeConnection, ServeRecorder } from '../../testing/tcp-fakes.js';
import type { ClusterTarget, TcpConnection } from '../tcp-layer.js';
import { tcpClusterPickLayer } from './tcp-cluster-pick-layer.js';

test('the picked cluster goes down with the connection', () => {
  const db = fakeCluster('db');
  const conn = fakeConnection({
    scope: chainScope({
      backends: new WeightedChoice([
        { item: db, weight: 1 },
        { item: fakeCluster('other'), weight: 0 },
      ]),
    }),
  });
  const next = new ServeRecorder<ClusterTarget>();
  const up = new EndRecorder<TcpConnection>();
  tcpClusterPickLayer.onConnection(conn, next, up);
  assert.deepEqual(next.served, [{ conn, cluster: db }]);
  assert.equal(up.ends.length, 0);
});

test('clusters all weighted zero refuse the connection with NO_BACKEND', () => {
  const conn = fakeConnection({ scope: chainScope({ backends: new WeightedChoice([{ item: fakeCluster('db'), weight: 0 }]), denyLogName: 'capture|tcp-chain' }) });
  const next = new ServeRecorder<ClusterTarget>();
  const up = new EndRecorder<TcpConnection>();
  tcpClusterPickLayer.onConnection(conn, next, up);
  assert.equal(next.served.length, 0);
  assert.equal(up.ends.length, 1);
  assert.equal(up.ends[0]!.end.refused?.code, 'NO_BACKEND');
  assert.match(up.ends[0]!.end.refused.message, /capture\|tcp-chain/);
});

test('the end of the cluster target goes up as its connection', () => {
  const conn = fakeConnection();
  const up = new EndRecorder<TcpConnection>();
  const end = { received: 1, sent: 2, durationMs: 3 };
  tcpClusterPickLayer.onEnd({ conn, cluster: fakeCluster('db') }, end, up);
  assert.deepEqual(up.ends, [{ target: conn, end }]);
});
