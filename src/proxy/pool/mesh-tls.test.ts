// Outbound mTLS handshakes are counted: ok when the server is who the control plane said, and
// each failure with its reason; a TCP connect that fails is no handshake.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { test, type TestContext } from 'node:test';
import { freePort } from '../../common/free-port.js';
import { TlsHandshakeCounts, type TlsFailureReason } from '../metrics/tls-handshakes.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import { staticTlsSource, testCa } from '../testing/test-certs.js';
import { dialMeshTls } from './mesh-tls.js';

const ca = await testCa();
const otherCa = await testCa('other root');
const WEB = 'spiffe://trellis.local/ns/default/sa/web';
const client = staticTlsSource(await ca.issue('spiffe://trellis.local/ns/default/sa/shop'), ca.certPem);

/** A TLS server with `id` that requires a client certificate of `ca`; or a plaintext one. */
async function server(t: TestContext, id: { key: string; cert: string } | 'plaintext'): Promise<number> {
  const s =
    id === 'plaintext'
      ? net.createServer((c) => c.end('HTTP/1.1 400 Bad Request\r\n\r\n'))
      : tls.createServer({ ...id, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (c) => c.end());
  s.on('tlsClientError', () => {});
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  // Not waiting for close's callback, which waits for every accepted connection to be released.
  t.after(() => {
    s.close();
  });
  return (s.address() as net.AddressInfo).port;
}

/** Dials `port` expecting `sans`, waits for the socket to close, and answers the counts. */
function dial(port: number, sans: string[], source: TlsSource = client): Promise<TlsHandshakeCounts> {
  const counts = new TlsHandshakeCounts('outbound', 'web.default');
  return new Promise((resolve) => {
    const socket = dialMeshTls('127.0.0.1', port, { source, sans, handshakes: counts }, undefined, undefined);
    socket.on('secureConnect', () => socket.end());
    socket.on('error', () => {});
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('close', () => setImmediate(() => resolve(counts)));
  });
}

const failed = (c: TlsHandshakeCounts): Partial<Record<TlsFailureReason, number>> => Object.fromEntries(Object.entries(c.failed).filter(([, n]) => n > 0));

test('a server with the expected identity is one ok handshake', { timeout: 10_000 }, async (t) => {
  const counts = await dial(await server(t, await ca.issue(WEB)), [WEB]);
  assert.equal(counts.ok, 1);
  assert.deepEqual(failed(counts), {});
});

test('failed outbound handshakes are counted with their reason', { timeout: 20_000 }, async (t) => {
  const cases: [string, number, TlsFailureReason][] = [
    ['another identity', await server(t, await ca.issue('spiffe://trellis.local/ns/default/sa/impostor')), 'wrong_identity'],
    ['a certificate of another CA', await server(t, await otherCa.issue(WEB)), 'untrusted_chain'],
    ['an expired certificate', await server(t, await ca.issue(WEB, { notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) })), 'expired'],
    ['a plaintext server', await server(t, 'plaintext'), 'protocol'],
  ];
  for (const [what, port, reason] of cases) {
    const counts = await dial(port, [WEB]);
    assert.equal(counts.ok, 0, what);
    assert.deepEqual(failed(counts), { [reason]: 1 }, what);
  }
});

test('a server that never answers the ClientHello within the connect timeout is a timeout', { timeout: 10_000 }, async (t) => {
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => {
    silent.close();
  });
  const counts = new TlsHandshakeCounts('outbound', 'web.default');
  const socket = dialMeshTls('127.0.0.1', (silent.address() as net.AddressInfo).port, { source: client, sans: [WEB], handshakes: counts }, undefined, undefined);
  // As the pools do: a connect timeout, then destroy.
  socket.setTimeout(200, () => socket.destroy());
  socket.on('error', () => {});
  await new Promise((r) => socket.on('close', r));
  assert.deepEqual(failed(counts), { timeout: 1 });
});

test('a refused TCP connect is no handshake; dialling without a certificate of our own is no_local_cert', { timeout: 10_000 }, async (t) => {
  const refused = await dial(await freePort(), [WEB]);
  assert.equal(refused.ok, 0);
  assert.deepEqual(failed(refused), {});
  const noCert: TlsSource = { context: () => undefined, contextOptions: () => undefined, generation: 0 };
  assert.deepEqual(failed(await dial(await server(t, await ca.issue(WEB)), [WEB], noCert)), { no_local_cert: 1 });
});
