// Where the control plane reaches a proxy's admin listener: its Unix socket when it reported
// one, else 127.0.0.1:adminPort; and the stats collector really collects over the socket.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ProxyStatus } from '../../api/proxy-status.js';
import type { RequestStatsReport } from '../../api/telemetry.js';
import { listenUnix } from '../../common/listen-unix.js';
import { adminRequestOptions, describeAdmin } from './admin-request.js';
import { StatsCollector, edgeKey } from './stats-collector.js';

const proxy = (over: Partial<ProxyStatus>): ProxyStatus => ({
  id: 'p1',
  service: 'web',
  namespace: 'default',
  address: '10.0.0.2',
  connected: true,
  lastSeen: '',
  versions: { listeners: '', routes: '', clusters: '', endpoints: '' },
  nacks: [],
  labels: { app: 'web' },
  ...over,
});

test('a proxy that reported an admin socket is reached there, not on 127.0.0.1', () => {
  const o = adminRequestOptions(proxy({ adminPort: 15020, adminSocket: '/run/trellis/trellis-admin-web.sock' }), '/stats/requests');
  assert.deepEqual(o, { socketPath: '/run/trellis/trellis-admin-web.sock', path: '/stats/requests' });
  assert.equal(describeAdmin(o), 'unix:/run/trellis/trellis-admin-web.sock');
});

test('a proxy with only an admin port is reached on 127.0.0.1:adminPort', () => {
  const o = adminRequestOptions(proxy({ adminPort: 15020 }), '/tap?service=web.default');
  assert.deepEqual(o, { host: '127.0.0.1', port: 15020, path: '/tap?service=web.default' });
  assert.equal(describeAdmin(o), '127.0.0.1:15020');
});

test('a disconnected proxy, or one that reported no admin listener, is not reached at all', () => {
  assert.equal(adminRequestOptions(proxy({ adminPort: 15020, adminSocket: '/run/a.sock', connected: false }), '/tap'), undefined);
  assert.equal(adminRequestOptions(proxy({}), '/tap'), undefined);
});

test('the stats collector reads /stats/requests over the admin socket and counts the edge', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-admin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'admin.sock');
  let count = 0;
  const paths: string[] = [];
  const admin = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    const report: RequestStatsReport = {
      bucketBounds: [0.1],
      series: [
        {
          direction: 'outbound',
          service: 'api.default',
          sourceService: 'web.default',
          sourceWorkload: 'web',
          destinationWorkload: 'unknown',
          route: '',
          count,
          codes: { '200': count },
          buckets: [count],
          sumSeconds: 0,
          requestBytes: 0,
          responseBytes: 0,
        },
      ],
    };
    res.end(JSON.stringify(report));
  });
  t.after(() => new Promise<void>((resolve) => admin.close(() => resolve())));
  await listenUnix(admin, socket, 'a fake admin listener');
  // adminPort 1 is never served: only the socket can answer.
  const c = new StatsCollector({ proxies: () => [proxy({ adminPort: 1, adminSocket: socket })] });
  await c.collectNow();
  count = 7;
  await c.collectNow();
  assert.deepEqual(c.health.get('p1'), { ok: true, at: c.health.get('p1')!.at });
  assert.equal(c.window(60).get(edgeKey('web.default', 'web', 'api.default'))?.requests, 7);
  assert.deepEqual(paths, ['/stats/requests', '/stats/requests']);
});

test('a proxy whose admin socket is gone is reported unhealthy, naming the socket', async () => {
  const c = new StatsCollector({ proxies: () => [proxy({ adminPort: 1, adminSocket: '/nonexistent/trellis-admin.sock' })] });
  await c.collectNow();
  const h = c.health.get('p1')!;
  assert.equal(h.ok, false);
  assert.match(h.error!, /^admin unix:\/nonexistent\/trellis-admin\.sock\/stats\/requests: connect ENOENT/);
});
