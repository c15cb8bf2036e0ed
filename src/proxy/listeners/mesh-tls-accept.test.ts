// Inbound mTLS handshakes are counted: ok for a mesh identity, and each refusal with its reason
// (no client certificate, another CA, expired, no SPIFFE ID, plaintext, no certificate of our own).
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { test, type TestContext } from 'node:test';
import { TlsHandshakeCounts, type TlsFailureReason } from '../metrics/tls-handshakes.js';
import type { TlsSource } from '../identity/proxy-identity.js';
import { staticTlsSource, testCa } from '../testing/test-certs.js';
import { MeshTlsAcceptor } from './mesh-tls-accept.js';

const ca = await testCa();
const otherCa = await testCa('other root');
const SHOP = 'spiffe://trellis.local/ns/default/sa/shop';
const serverId = await ca.issue('spiffe://trellis.local/ns/default/sa/web');

/** A STRICT mTLS port counting into the returned counts; accepted connections get one HTTP answer. */
async function strictPort(t: TestContext, source: TlsSource | undefined): Promise<{ port: number; counts: TlsHandshakeCounts }> {
  const counts = new TlsHandshakeCounts('inbound', 'web.default');
  const acceptor = new MeshTlsAcceptor(source, 2000, undefined, (socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'), counts);
  const server = net.createServer((raw) => acceptor.accept(raw, { mode: 'strict' }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // Not waiting for close's callback, which waits for every accepted connection to be released.
  t.after(() => {
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, counts };
}

/** Connects with `client` (TLS options, or 'plaintext'), sends a request and waits for the connection to end. */
function call(port: number, client: tls.ConnectionOptions | 'plaintext'): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const socket =
      client === 'plaintext' ? net.connect(port, '127.0.0.1') : tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, checkServerIdentity: () => undefined, ...client });
    socket.once(client === 'plaintext' ? 'connect' : 'secureConnect', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    socket.on('data', (c: Buffer) => {
      got += c.toString();
      socket.end();
    });
    socket.on('error', () => {});
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('close', () => resolve(got));
  });
}

const failed = (c: TlsHandshakeCounts): Partial<Record<TlsFailureReason, number>> => Object.fromEntries(Object.entries(c.failed).filter(([, n]) => n > 0));

test('a mesh client certificate is one ok handshake', { timeout: 10_000 }, async (t) => {
  const { port, counts } = await strictPort(t, staticTlsSource(serverId, ca.certPem));
  assert.match(await call(port, await ca.issue(SHOP)), /^HTTP\/1\.1 200/);
  assert.equal(counts.ok, 1);
  assert.deepEqual(failed(counts), {});
});

test('refused handshakes are counted with their reason', { timeout: 20_000 }, async (t) => {
  const { port, counts } = await strictPort(t, staticTlsSource(serverId, ca.certPem));
  const cases: [string, tls.ConnectionOptions | 'plaintext', TlsFailureReason][] = [
    ['no client certificate', {}, 'no_client_cert'],
    ['a certificate of another CA', await otherCa.issue(SHOP), 'untrusted_chain'],
    ['an expired certificate', await ca.issue(SHOP, { notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) }), 'expired'],
    ['a certificate without a SPIFFE ID', await ca.issue('https://example.org/shop'), 'wrong_identity'],
    ['plaintext HTTP', 'plaintext', 'protocol'],
  ];
  for (const [what, client, reason] of cases) {
    const before = counts.failed[reason];
    assert.equal(await call(port, client), '', `${what} got an answer`);
    assert.equal(counts.failed[reason], before + 1, `${what}: ${JSON.stringify(failed(counts))}`);
  }
  assert.equal(counts.ok, 0);
  assert.equal(
    Object.values(counts.failed).reduce((a, b) => a + b, 0),
    cases.length,
    'one count per refusal',
  );
});

test('a proxy without a workload certificate yet counts no_local_cert', { timeout: 10_000 }, async (t) => {
  const { port, counts } = await strictPort(t, undefined);
  assert.equal(await call(port, await ca.issue(SHOP)), '');
  assert.deepEqual(failed(counts), { no_local_cert: 1 });
});
