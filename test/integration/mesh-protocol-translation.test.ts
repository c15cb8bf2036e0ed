// Protocol translation (issue 12, item 11): the server's sidecar speaks to its app in the protocol
// the Service port declares, whatever the client spoke. An h2c client reaches an HTTP/1.1-only app
// and an HTTP/1.1 client an h2c-only app, through two sidecars (mutual TLS between them): GET,
// POST with a body, large streamed bodies both ways, trailers. gRPC to a port declared HTTP/1.1
// gets a clear gRPC error at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import grpc from '@grpc/grpc-js';
import { cleanup } from './cleanup.js';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, startControlPlane, startWorkload } from './harness.js';

const { echoService } = (await import(path.join(FIXTURES, 'grpc-app.mjs'))) as { echoService: grpc.ServiceDefinition };
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');
const APP = path.join(FIXTURES, 'protocol-app.mjs');
/** Large bodies: several HTTP/2 flow-control windows and many HTTP/1.1 chunks. */
const LARGE_KIB = 4096;

function service(name: string, appProtocol: string) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ name: 'main', port: 9000, appProtocol }] } };
}

/** The bytes the app streams for GET /stream (byte i of each 16 KiB chunk is i % 251). */
function expectedStream(kib: number): string {
  const chunk = Buffer.alloc(16 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
  const hash = createHash('sha256');
  for (let i = 0; i < kib / 16; i++) hash.update(chunk);
  return hash.digest('hex');
}

/** A body of `kib` KiB written in 16 KiB pieces, and its SHA-256. */
function largeBody(kib: number): { chunks: Buffer[]; sha256: string } {
  const chunks = Array.from({ length: kib / 16 }, (_, i) => Buffer.alloc(16 * 1024, i % 256));
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  return { chunks, sha256: hash.digest('hex') };
}

interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
}

/** One request on an h2c session; the body written in pieces with backpressure. */
function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer[]): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const parts: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      got = h;
    });
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve({ status, headers: got, trailers, body: Buffer.concat(parts) }));
    req.on('error', reject);
    req.setTimeout(30_000, () => req.close(http2.constants.NGHTTP2_CANCEL));
    if (body !== undefined) {
      let i = 0;
      const write = () => {
        while (i < body.length) if (!req.write(body[i++])) return void req.once('drain', write);
        req.end();
      };
      write();
    }
  });
}

interface H1Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
}

/** One HTTP/1.1 request; a body in pieces goes chunked (no Content-Length) unless `headers` set one. */
function h1Request(port: number, method: string, urlPath: string, headers: http.OutgoingHttpHeaders = {}, body?: Buffer[]): Promise<H1Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: { host: 'h2app:9000', ...headers }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, trailers: res.trailers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    if (body === undefined) return void req.end();
    let i = 0;
    const write = () => {
      while (i < body.length) if (!req.write(body[i++])) return void req.once('drain', write);
      req.end();
    };
    write();
  });
}

async function mesh(t: TestContext) {
  const cp = await startControlPlane(t);
  await applyResources(cp, [service('h1app', 'http'), service('h2app', 'http2'), service('grpc-on-h1', 'http'), service('caller', 'http')]);
  await Promise.all([
    startWorkload(t, cp, { service: 'h1app', app: [process.execPath, APP], env: { APP_HTTP: '1' } }),
    startWorkload(t, cp, { service: 'h2app', app: [process.execPath, APP], env: { APP_HTTP: '2' } }),
    startWorkload(t, cp, { service: 'grpc-on-h1', app: [process.execPath, path.join(FIXTURES, 'grpc-app.mjs')] }),
  ]);
  return startWorkload(t, cp, { service: 'caller', upstreams: ['h1app:9000', 'h2app:9000', 'grpc-on-h1:9000'] });
}

test('protocol translation between HTTP/1.1 and HTTP/2 across two sidecars, by the app port appProtocol', { timeout: 300_000 }, async (t) => {
  const caller = await mesh(t);

  await t.test('an h2c client reaches an HTTP/1.1-only app (appProtocol http) and back', async (t) => {
    const session = http2.connect(`http://127.0.0.1:${caller.upstreamPorts['h1app:9000']}`);
    session.on('error', () => {});
    cleanup(t, () => session.destroy());
    const get = (p: string, extra: http2.OutgoingHttpHeaders = {}) => h2Request(session, { ':path': p, ':authority': 'h1app:9000', ...extra });
    await waitFor(async () => (await get('/echo')).status === 200, 'a first h2c request through the mesh', 30_000, 250);

    const echo = await get('/echo?x=1', { 'x-custom': 'kept', te: 'trailers' });
    assert.equal(echo.status, 200);
    const seen = JSON.parse(echo.body.toString());
    assert.deepEqual(
      { protocol: seen.protocol, method: seen.method, path: seen.path, authority: seen.authority },
      { protocol: 'HTTP/1.1', method: 'GET', path: '/echo?x=1', authority: 'h1app:9000' },
    );
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(seen.headers.te, 'trailers', 'te: trailers reaches the HTTP/1.1 app');
    assert.equal(echo.headers['connection'], undefined, 'no connection-specific field in the HTTP/2 answer');

    const small = Buffer.from('x'.repeat(10_000));
    const post = await h2Request(session, { ':method': 'POST', ':path': '/upload', ':authority': 'h1app:9000', 'content-length': small.length }, [small]);
    assert.deepEqual(JSON.parse(post.body.toString()), {
      protocol: 'HTTP/1.1',
      bytes: small.length,
      sha256: createHash('sha256').update(small).digest('hex'),
      contentLength: String(small.length),
    });

    const large = largeBody(LARGE_KIB);
    const up = await h2Request(session, { ':method': 'POST', ':path': '/upload', ':authority': 'h1app:9000' }, large.chunks);
    assert.deepEqual(
      JSON.parse(up.body.toString()),
      { protocol: 'HTTP/1.1', bytes: LARGE_KIB * 1024, sha256: large.sha256, contentLength: null },
      'a body without length goes chunked, intact',
    );

    const down = await get(`/stream?kib=${LARGE_KIB}`);
    assert.equal(down.status, 200);
    assert.equal(down.body.length, LARGE_KIB * 1024);
    assert.equal(createHash('sha256').update(down.body).digest('hex'), expectedStream(LARGE_KIB));

    const fixed = await get('/fixed');
    assert.equal(fixed.headers['content-length'], '10', 'a known Content-Length is kept');
    assert.equal(fixed.body.toString(), 'fixed body');

    const withTrailers = await get('/trailers', { te: 'trailers' });
    assert.equal(withTrailers.body.toString(), 'with trailers');
    assert.equal(withTrailers.trailers?.['x-checksum'], 'abc123', 'chunked trailers arrive as HTTP/2 trailers');
  });

  await t.test('an HTTP/1.1 client reaches an h2c-only app (appProtocol http2) and back', async () => {
    const port = caller.upstreamPorts['h2app:9000']!;
    await waitFor(async () => (await h1Request(port, 'GET', '/echo')).status === 200, 'a first HTTP/1.1 request through the mesh', 30_000, 250);

    const echo = await h1Request(port, 'GET', '/echo?y=2', { 'x-custom': 'kept', connection: 'keep-alive, x-hop', 'x-hop': 'dropped', te: 'trailers' });
    assert.equal(echo.status, 200);
    const seen = JSON.parse(echo.body.toString());
    assert.deepEqual(
      { protocol: seen.protocol, method: seen.method, path: seen.path, authority: seen.authority },
      { protocol: 'h2', method: 'GET', path: '/echo?y=2', authority: 'h2app:9000' },
    );
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(seen.headers['x-hop'], undefined, 'a field the Connection header lists is hop-by-hop');
    assert.equal(seen.headers.te, 'trailers');
    assert.equal(seen.headers.host, undefined, 'Host became :authority');

    const small = Buffer.from('y'.repeat(10_000));
    const post = await h1Request(port, 'POST', '/upload', { 'content-length': small.length }, [small]);
    assert.deepEqual(JSON.parse(post.body.toString()), {
      protocol: 'h2',
      bytes: small.length,
      sha256: createHash('sha256').update(small).digest('hex'),
      contentLength: String(small.length),
    });

    const large = largeBody(LARGE_KIB);
    const up = await h1Request(port, 'POST', '/upload', {}, large.chunks);
    assert.deepEqual(
      JSON.parse(up.body.toString()),
      { protocol: 'h2', bytes: LARGE_KIB * 1024, sha256: large.sha256, contentLength: null },
      'a chunked body goes as DATA frames, intact',
    );

    const down = await h1Request(port, 'GET', `/stream?kib=${LARGE_KIB}`);
    assert.equal(down.headers['transfer-encoding'], 'chunked');
    assert.equal(down.body.length, LARGE_KIB * 1024);
    assert.equal(createHash('sha256').update(down.body).digest('hex'), expectedStream(LARGE_KIB));

    const fixed = await h1Request(port, 'GET', '/fixed');
    assert.equal(fixed.headers['content-length'], '10', 'a known Content-Length is kept');
    assert.equal(fixed.body.toString(), 'fixed body');

    const withTrailers = await h1Request(port, 'GET', '/trailers', { te: 'trailers' });
    assert.equal(withTrailers.body.toString(), 'with trailers');
    assert.equal(withTrailers.trailers['x-checksum'], 'abc123', 'HTTP/2 trailers arrive as chunked trailers');
  });

  await t.test('gRPC to a port declared http (HTTP/1.1) fails at once with UNIMPLEMENTED naming the protocol', async (t) => {
    const client = new EchoClient(`127.0.0.1:${caller.upstreamPorts['grpc-on-h1:9000']}`, grpc.credentials.createInsecure()) as any;
    cleanup(t, () => client.close());
    const call = () =>
      new Promise<grpc.ServiceError>((resolve, reject) =>
        client.unary({ text: 'hi' }, { deadline: Date.now() + 10_000 }, (e: grpc.ServiceError | null) => (e ? resolve(e) : reject(new Error('the call succeeded')))),
      );
    let error = await call();
    await waitFor(
      async () => {
        error = await call();
        return error.code === grpc.status.UNIMPLEMENTED;
      },
      'the mesh to answer the gRPC call',
      30_000,
      250,
    );
    assert.equal(error.code, grpc.status.UNIMPLEMENTED, `not a deadline: ${error.message}`);
    assert.match(error.details, /gRPC needs HTTP\/2.*HTTP\/1\.1.*appProtocol http/);
    assert.equal(error.metadata.get('x-trellis-error')[0], 'UPSTREAM_PROTOCOL_MISMATCH');
  });
});
