// Real gRPC (@grpc/grpc-js) through an HTTP listener: unary, server streaming, client
// streaming and bidi calls, status codes and metadata, and the proxy's own answers as gRPC statuses.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { cluster, httpListener, routeTable, rule, runtimeConfig, simpleConfig, virtualHost } from '../testing/config-builder.js';
import { waitFor } from '../../common/wait.js';
import { startDataPlane } from '../testing/test-servers.js';
import { seriesSum } from '../metrics/prom-text.js';

const raw = (b: Buffer) => b;
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path,
  requestStream,
  responseStream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});
const SERVICE = {
  Unary: method('/test.Echo/Unary', false, false),
  ServerStream: method('/test.Echo/ServerStream', false, true),
  ClientStream: method('/test.Echo/ClientStream', true, false),
  Bidi: method('/test.Echo/Bidi', true, true),
  Fail: method('/test.Echo/Fail', false, false),
} as unknown as grpc.ServiceDefinition;

async function startGrpcServer(t: TestContext): Promise<number> {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-echo-meta', String(call.metadata.get('x-meta')[0] ?? ''));
      call.sendMetadata(md);
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request]));
    },
    ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 0; i < n; i++) call.write(Buffer.from(`msg${i}`));
      call.end();
    },
    ClientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const parts: string[] = [];
      call.on('data', (b: Buffer) => parts.push(b.toString()));
      call.on('end', () => cb(null, Buffer.from(parts.join('+'))));
    },
    Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(Buffer.from(`re:${b.toString()}`)));
      call.on('end', () => call.end());
    },
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.after(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return port;
}

function client(t: TestContext, port: number): grpc.Client {
  const c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.after(() => c.close());
  return c;
}

const deadline = () => ({ deadline: Date.now() + 5000 });

async function proxied(t: TestContext) {
  const appPort = await startGrpcServer(t);
  const { plane, metrics } = startDataPlane(t);
  assert.ok((await plane.apply(simpleConfig(0, [appPort]))).ok);
  return { port: plane.port('out')!, metrics };
}

test('a unary gRPC call passes with its metadata', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const c = client(t, port);
  const md = new grpc.Metadata();
  md.set('x-meta', 'm1');
  let header: grpc.Metadata | undefined;
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const call = c.makeUnaryRequest('/test.Echo/Unary', raw, raw, Buffer.from('hi'), md, deadline(), (e, r) => (e ? reject(e) : resolve(r!)));
    call.on('metadata', (m) => (header = m));
  });
  assert.equal(reply.toString(), 'echo:hi');
  assert.equal(header?.get('x-echo-meta')[0], 'm1');
});

test('server streaming delivers every message in order', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const call = client(t, port).makeServerStreamRequest('/test.Echo/ServerStream', raw, raw, Buffer.from('50'), new grpc.Metadata(), deadline());
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    call.on('data', (b: Buffer) => got.push(b.toString()));
    call.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
    call.on('error', reject);
  });
  assert.deepEqual(
    got,
    Array.from({ length: 50 }, (_, i) => `msg${i}`),
  );
});

test('client streaming gathers every message', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const call = client(t, port).makeClientStreamRequest('/test.Echo/ClientStream', raw, raw, new grpc.Metadata(), deadline(), (e, r) => (e ? reject(e) : resolve(r!)));
    for (const p of ['a', 'b', 'c']) call.write(Buffer.from(p));
    call.end();
  });
  assert.equal(reply.toString(), 'a+b+c');
});

test('a bidi stream answers each message as it is sent', { timeout: 10_000 }, async (t) => {
  const { port } = await proxied(t);
  const call = client(t, port).makeBidiStreamRequest('/test.Echo/Bidi', raw, raw, new grpc.Metadata(), deadline());
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    const sendNext = () => call.write(Buffer.from(`m${sent++}`));
    call.on('data', (b: Buffer) => {
      got.push(b.toString());
      if (sent < 5)
        sendNext(); // ping-pong: the next message only after the previous answer
      else call.end();
    });
    call.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
    call.on('error', reject);
    sendNext();
  });
  assert.deepEqual(got, ['re:m0', 're:m1', 're:m2', 're:m3', 're:m4']);
});

test('an application gRPC error reaches the client with its code and message', { timeout: 10_000 }, async (t) => {
  const { port, metrics } = await proxied(t);
  const err = await new Promise<grpc.ServiceError>((resolve) => {
    client(t, port).makeUnaryRequest('/test.Echo/Fail', raw, raw, Buffer.from(''), new grpc.Metadata(), deadline(), (e) => resolve(e!));
  });
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.equal(err.details, 'no such thing');
  // Counted when the downstream stream closes, just after the client saw the status.
  const counted = async () => seriesSum(await metrics.text(), 'trellis_requests_total', { direction: 'outbound', service: 'app', code: '200', grpc_status: '5' });
  await waitFor(async () => (await counted()) === 1, 'the call counted with grpc_status 5', 3000);
});

test('a cluster without endpoints answers gRPC clients with UNAVAILABLE and x-trellis-error', { timeout: 10_000 }, async (t) => {
  const { plane } = startDataPlane(t);
  const config = runtimeConfig({
    listeners: [httpListener('out', 0)],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('r', 'empty')])])],
    clusters: [cluster('empty', [])],
  });
  assert.ok((await plane.apply(config)).ok);
  let trailers: grpc.Metadata | undefined;
  const err = await new Promise<grpc.ServiceError>((resolve) => {
    const call = client(t, plane.port('out')!).makeUnaryRequest('/test.Echo/Unary', raw, raw, Buffer.from(''), new grpc.Metadata(), deadline(), (e) => resolve(e!));
    call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
  });
  assert.equal(err.code, grpc.status.UNAVAILABLE);
  assert.match(err.details, /no healthy endpoint in cluster empty/);
  assert.equal(trailers?.get('x-trellis-error')[0], 'NO_HEALTHY_ENDPOINT');
});
