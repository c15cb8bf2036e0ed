// The TCP metrics layer: a relayed connection is counted on the way down, its bytes each way
// and its close on the way up, labelled by direction and destination service.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { chainScope, EndRecorder, fakeCluster, fakeConnection, fakeEndpoint, ServeRecorder } from '../../testing/tcp-fakes.js';
import type { EndpointTarget } from '../tcp-layer.js';
import { TcpMetricsLayer } from './tcp-metrics-layer.js';

function target(): EndpointTarget {
  return { conn: fakeConnection({ scope: chainScope({ direction: 'inbound' }) }), cluster: fakeCluster('db'), endpoint: fakeEndpoint() };
}

test('a connection is counted opened when it goes down, and its bytes when it ends', async () => {
  const metrics = new ProxyMetrics();
  const layer = new TcpMetricsLayer(metrics);
  const t = target();
  const next = new ServeRecorder<EndpointTarget>();
  layer.onConnection(t, next);
  assert.deepEqual(next.served, [t]);
  const opened = await metrics.text();
  assert.match(opened, /trellis_tcp_connections_total\{direction="inbound",service="db.default"\} 1/);
  assert.doesNotMatch(opened, /trellis_tcp_bytes_total\{/);

  const up = new EndRecorder<EndpointTarget>();
  const end = { received: 120, sent: 45, durationMs: 10 };
  layer.onEnd(t, end, up);
  assert.deepEqual(up.ends, [{ target: t, end }]);
  const text = await metrics.text();
  assert.match(text, /trellis_tcp_bytes_total\{direction="inbound",service="db.default",flow="received"\} 120/);
  assert.match(text, /trellis_tcp_bytes_total\{direction="inbound",service="db.default",flow="sent"\} 45/);
  assert.match(text, /trellis_tcp_connections_closed_total\{direction="inbound",service="db.default"\} 1/);
});

test('an end without bytes adds no byte samples', async () => {
  const metrics = new ProxyMetrics();
  new TcpMetricsLayer(metrics).onEnd(target(), { received: 0, sent: 0, durationMs: 1, error: new Error('ECONNREFUSED') }, new EndRecorder());
  assert.doesNotMatch(await metrics.text(), /trellis_tcp_bytes_total\{/);
});
