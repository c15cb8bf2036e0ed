// Protocol detection by the connection's first bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import { once } from 'node:events';
import tls from 'node:tls';
import { classify, clientHelloAlpn, detect, detectProtocol, H2_PREFACE, sniffProtocol } from './protocol-sniffer.js';

test('the full HTTP/2 preface is h2, any prefix of it is undecided', () => {
  assert.equal(classify(H2_PREFACE), 'h2');
  assert.equal(classify(Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4])])), 'h2');
  assert.equal(classify(H2_PREFACE.subarray(0, 3)), undefined);
  assert.equal(classify(H2_PREFACE.subarray(0, 23)), undefined);
});

test('HTTP/1 request lines are http/1.1 as soon as they differ from the preface', () => {
  for (const start of ['GET / HTTP/1.1\r\n', 'POST /x HTTP/1.1\r\n', 'PUT', 'P', 'PRIX', 'PRI * HTTP/1.1\r\n']) {
    const expected = start === 'P' ? undefined : 'http/1.1';
    assert.equal(classify(Buffer.from(start)), expected, JSON.stringify(start));
  }
});

test('detect: HTTP/1 request lines, the h2 preface, a TLS ClientHello, anything else opaque', () => {
  const cases: [string | Buffer, string | undefined][] = [
    ['GET / HTTP/1.1\r\nhost: x\r\n', 'http/1.1'],
    ['DELETE /a/b?c=d HTTP/1.0\n', 'http/1.1'],
    ['GET / HTT', undefined],
    ['GE', undefined],
    [H2_PREFACE, 'h2c'],
    [H2_PREFACE.subarray(0, 10), undefined],
    [Buffer.from([0x16, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00]), 'tls'],
    [Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]), undefined], // a ClientHello record of 512 bytes: wait for all of it
    [Buffer.from([0x16, 0x03, 0x01]), undefined],
    [Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x02]), 'opaque'],
    ['hello world\n', 'opaque'],
    ['\x00\x01binary', 'opaque'],
    ['GET /only-a-line-without-version\r\n', 'opaque'],
    ['EHLO example.test\r\n', 'opaque'],
  ];
  for (const [input, expected] of cases) assert.equal(detect(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1')), expected, JSON.stringify(input.toString()));
});

test('detectProtocol: a silent client (server-first protocol) is opaque after the timeout, with nothing lost', async (t) => {
  const server = net.createServer();
  t.after(() => server.close());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.after(() => client.destroy());
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  t.after(() => socket.destroy());
  const started = Date.now();
  const protocol = await new Promise<string>((resolve) => detectProtocol(socket, 100, resolve));
  assert.equal(protocol, 'opaque');
  assert.ok(Date.now() - started >= 90, 'waited for the timeout');
  // Bytes that come afterwards still arrive in order.
  client.write('later');
  socket.resume();
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'later');
});

test('detectProtocol: bytes read while detecting are put back for whoever reads next', async (t) => {
  const server = net.createServer();
  t.after(() => server.close());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.after(() => client.destroy());
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  t.after(() => socket.destroy());
  client.write('GET /x HTTP/1.1\r\n');
  const protocol = await new Promise<string>((resolve) => detectProtocol(socket, 5000, resolve));
  assert.equal(protocol, 'http/1.1');
  socket.resume();
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'GET /x HTTP/1.1\r\n');
});

/** The first bytes a real node:tls client sends, offering `alpn`. */
async function clientHello(alpn: string[] | undefined): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = once(server, 'connection').then(async ([socket]) => {
    let seen = Buffer.alloc(0);
    while (detect(seen) === undefined) seen = Buffer.concat([seen, (await once(socket as net.Socket, 'data'))[0] as Buffer]);
    (socket as net.Socket).destroy();
    return seen;
  });
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, rejectUnauthorized: false, ...(alpn ? { ALPNProtocols: alpn } : {}) });
  client.on('error', () => {});
  try {
    return await got;
  } finally {
    client.destroy();
    server.close();
  }
}

test('clientHelloAlpn reads the protocols a real ClientHello offers, in order; none when it offers none', async () => {
  const h2 = await clientHello(['h2', 'http/1.1']);
  assert.equal(detect(h2), 'tls');
  assert.deepEqual(clientHelloAlpn(h2), ['h2', 'http/1.1']);
  assert.deepEqual(clientHelloAlpn(await clientHello(['http/1.1'])), ['http/1.1']);
  assert.deepEqual(clientHelloAlpn(await clientHello(undefined)), []);
});

test('clientHelloAlpn answers none for a truncated or malformed ClientHello instead of reading past it', async () => {
  const hello = await clientHello(['h2']);
  for (let cut = 6; cut < hello.length; cut += 7) assert.ok(Array.isArray(clientHelloAlpn(hello.subarray(0, cut))));
  const bad = Buffer.from(hello);
  bad.writeUInt16BE(0xffff, 5 + 4 + 2 + 32 + 1 + bad[5 + 4 + 2 + 32]!); // the cipher suites claim more than the record holds
  assert.deepEqual(clientHelloAlpn(bad), []);
});

test('sniffProtocol: a client that trickles the preface is closed at the deadline, not kept alive by each byte', async (t) => {
  const server = net.createServer();
  t.after(() => server.close());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  t.after(() => client.destroy());
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  let sent = 0;
  const trickle = setInterval(() => {
    if (sent < H2_PREFACE.length - 1) client.write(H2_PREFACE.subarray(sent, ++sent));
  }, 20);
  t.after(() => clearInterval(trickle));
  let timedOut = false;
  sniffProtocol(
    socket,
    200,
    () => assert.fail('classified a partial preface'),
    () => (timedOut = true),
  );
  await once(socket, 'close');
  assert.equal(timedOut, true);
  assert.ok(sent < H2_PREFACE.length - 1, `closed while the client was still trickling (${sent} bytes sent)`);
});
