// Retries of a 5xx across real sidecars keep their connection: the 503 is read whole, its mTLS
// connection goes back to the client sidecar's pool, and the retry (and every later request)
// goes out on it. Counted with the sidecars' own handshake and retry counters.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, counter, FIXTURES, get, httpService, startControlPlane, startWorkload } from './harness.js';

test('retries of a 5xx go out on the pooled mTLS connection: handshakes stay far below retries', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    httpService('flaky'),
    httpService('client'),
    {
      apiVersion: 'trellis.dev/v1alpha1',
      kind: 'TrafficPolicy',
      metadata: { name: 'flaky', namespace: 'default' },
      spec: { targetRef: { kind: 'Service', name: 'flaky' }, retry: { attempts: 4, on: ['5xx'], backoff: { base: '1ms', max: '5ms' } } },
    },
  ]);
  const flaky = await startWorkload(t, cp, { service: 'flaky', app: [process.execPath, path.join(FIXTURES, 'faulty-app.mjs')], env: { FAIL_RATE: '0.3' } });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['flaky:8080'] });
  const url = `http://127.0.0.1:${client.upstreamPorts['flaky:8080']}/`;
  const retries = () => counter(client.adminUrl, 'trellis_retries_total', { service: 'flaky.default', reason: '5xx' });
  // The policy is in effect once a retry was counted.
  await waitFor(async () => ((await get(url)).status, (await retries()) > 0), 'the retry policy in effect', 20_000);
  const outbound = () => counter(client.adminUrl, 'trellis_tls_handshakes_total', { direction: 'outbound', service: 'flaky.default', result: 'ok' });
  const inbound = () => counter(flaky.adminUrl, 'trellis_tls_handshakes_total', { direction: 'inbound', result: 'ok' });
  const before = { retries: await retries(), outbound: await outbound(), inbound: await inbound() };

  // Two callers at a time, 300 requests: ~30 % of attempts fail and are retried.
  let failed = 0;
  for (let i = 0; i < 150; i++) for (const r of await Promise.all([get(url), get(url)])) if (r.status !== 200) failed++;
  const retried = (await retries()) - before.retries;
  const handshakes = { outbound: (await outbound()) - before.outbound, inbound: (await inbound()) - before.inbound };
  t.diagnostic(`${retried} retries of a 5xx, ${handshakes.outbound} outbound and ${handshakes.inbound} inbound mTLS handshakes, ${failed} failed`);
  assert.ok(retried >= 60, `${retried} retries (about 130 expected)`);
  assert.ok(failed <= 8, `${failed} of 300 failed after 4 retries (0.3 ** 5 of them: ~0.7 expected)`);
  // Before, each retried 503 closed its connection: about one handshake per retry.
  assert.ok(handshakes.outbound <= 5, `${handshakes.outbound} outbound handshakes for ${retried} retries`);
  assert.ok(handshakes.inbound <= 5, `${handshakes.inbound} handshakes at flaky's sidecar for ${retried} retries`);
});
