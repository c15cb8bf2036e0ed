// The sidecar's mesh health metrics: xDS state per resource type, config age and certificate
// expiry, computed from their sources at scrape time; absent until there is something to say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registerMeshHealthMetrics, typeLabel, type XdsHealthSource } from './mesh-health.js';
import { Registry } from './prom-client-core.js';
import { seriesSum } from './prom-text.js';

const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

test('xDS connection, ACKs and NACKs by type with their times, config age and seconds to certificate expiry', async () => {
  const registry = new Registry();
  let xds: XdsHealthSource = { connected: false, lastUpdateMs: undefined, types: new Map() };
  let notAfter: number | undefined;
  const now = 1_800_000_000_000;
  registerMeshHealthMetrics(registry, { xds: () => xds, certificateNotAfterMs: () => notAfter, now: () => now });
  let text = await registry.metrics();
  assert.equal(seriesSum(text, 'trellis_xds_connected', {}), 0);
  assert.equal(seriesSum(text, 'trellis_config_age_seconds', {}), undefined, 'no config yet');
  assert.equal(seriesSum(text, 'trellis_workload_certificate_expiry_seconds', {}), undefined, 'no certificate yet');

  xds = {
    connected: true,
    lastUpdateMs: now - 42_000,
    types: new Map([
      [CLUSTER, { acks: 3, nacks: 1, lastAckMs: now - 42_000, lastNackMs: now - 5_000 }],
      [SECRET, { acks: 1, nacks: 0, lastAckMs: now - 60_000, lastNackMs: undefined }],
    ]),
  };
  notAfter = now + 3_600_000;
  text = await registry.metrics();
  assert.equal(seriesSum(text, 'trellis_xds_connected', {}), 1);
  assert.equal(seriesSum(text, 'trellis_config_age_seconds', {}), 42);
  assert.equal(seriesSum(text, 'trellis_xds_responses_total', { type: 'Cluster', result: 'ack' }), 3);
  assert.equal(seriesSum(text, 'trellis_xds_responses_total', { type: 'Cluster', result: 'nack' }), 1);
  assert.equal(seriesSum(text, 'trellis_xds_responses_total', { type: 'Secret', result: 'nack' }), 0);
  assert.equal(seriesSum(text, 'trellis_xds_last_response_timestamp_seconds', { type: 'Cluster', result: 'nack' }), (now - 5_000) / 1000);
  assert.equal(seriesSum(text, 'trellis_xds_last_response_timestamp_seconds', { type: 'Secret', result: 'nack' }), undefined, 'never NACKed');
  assert.equal(seriesSum(text, 'trellis_workload_certificate_expiry_seconds', {}), 3600);
  assert.equal(typeLabel('type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'), 'ClusterLoadAssignment');
});
