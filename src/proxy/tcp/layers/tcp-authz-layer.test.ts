// The TCP authorization layer: decides on the caller's identity, counts every decision, and
// refuses a denied connection (FORBIDDEN) without passing it down or closing it itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzRules } from '../../config/authz-config.js';
import { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { chainScope, EndRecorder, fakeConnection, ServeRecorder } from '../../testing/tcp-fakes.js';
import type { TcpConnection } from '../tcp-layer.js';
import { TcpAuthzLayer } from './tcp-authz-layer.js';

const denyBad: AuthzRules = {
  action: 'deny',
  policies: [{ name: 'default/no-bad/rules[0]', principals: [{ authenticated: { exact: 'spiffe://mesh/ns/default/sa/bad' } }], permissions: [{ any: true }] }],
};

function run(conn: TcpConnection, metrics = new ProxyMetrics()) {
  const next = new ServeRecorder<TcpConnection>();
  const up = new EndRecorder<TcpConnection>();
  new TcpAuthzLayer(metrics).onConnection(conn, next, up);
  return { next, up, metrics };
}

test('a connection without rules passes down and counts no decision', async () => {
  const conn = fakeConnection();
  const { next, up, metrics } = run(conn);
  assert.deepEqual(next.served, [conn]);
  assert.equal(up.ends.length, 0);
  assert.doesNotMatch(await metrics.text(), /trellis_authz_decisions_total\{/);
});

test('an allowed caller passes down, counted as allow', async () => {
  const conn = fakeConnection({ scope: chainScope({ authz: [denyBad] }), peer: 'spiffe://mesh/ns/default/sa/good' });
  const { next, up, metrics } = run(conn);
  assert.deepEqual(next.served, [conn]);
  assert.equal(up.ends.length, 0);
  assert.match(await metrics.text(), /trellis_authz_decisions_total\{direction="outbound",listener="db",decision="allow",policy=""\} 1/);
});

test('a denied caller is refused with FORBIDDEN and the deciding policy counted, the socket left to the close layer', async () => {
  const conn = fakeConnection({ scope: chainScope({ authz: [denyBad], denyLogName: 'virtualInbound|chain' }), peer: 'spiffe://mesh/ns/default/sa/bad' });
  const { next, up, metrics } = run(conn);
  assert.equal(next.served.length, 0);
  assert.equal(up.ends.length, 1);
  assert.equal(up.ends[0]!.target, conn);
  assert.equal(up.ends[0]!.end.refused?.code, 'FORBIDDEN');
  assert.equal(conn.socket.destroyed, false);
  assert.match(await metrics.text(), /trellis_authz_decisions_total\{direction="outbound",listener="db",decision="deny",policy="default\/no-bad\/rules\[0\]"\} 1/);
});

test('a plaintext caller matches no authenticated principal', () => {
  const allowGood: AuthzRules = { action: 'allow', policies: [{ name: 'default/good/rules[0]', principals: [{ authenticated: undefined }], permissions: [{ any: true }] }] };
  const { next, up } = run(fakeConnection({ scope: chainScope({ authz: [allowGood] }) }));
  assert.equal(next.served.length, 0);
  assert.equal(up.ends[0]!.end.refused?.code, 'FORBIDDEN');
});

test('the end of a connection it passed down goes on up unchanged', () => {
  const conn = fakeConnection();
  const up = new EndRecorder<TcpConnection>();
  const end = { received: 3, sent: 4, durationMs: 5 };
  new TcpAuthzLayer(new ProxyMetrics()).onEnd(conn, end, up);
  assert.deepEqual(up.ends, [{ target: conn, end }]);
});
