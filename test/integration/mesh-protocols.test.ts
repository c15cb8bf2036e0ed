// gRPC (unary and bidirectional streaming over HTTP/2 cleartext) and opaque TCP cross two sidecars.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import grpc from '@grpc/grpc-js';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, counter, FIXTURES, startControlPlane, startWorkload } from './harness.js';

// The test app's own service definition (JSON messages), so client and server cannot drift apart.
const { echoService } = (await import(path.join(FIXTURES, 'grpc-app.mjs'))) as { echoService: grpc.ServiceDefinition };
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');

function service(name: string, appProtocol: string) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ name: 'main', port: 9000, appProtocol }] } };
}

test('gRPC unary and bidirectional streaming calls cross two sidecars', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [service('greeter', 'grpc'), service('caller', 'http')]);
  const server = await startWorkload(t, cp, { service: 'greeter', app: [process.execPath, path.join(FIXTURES, 'grpc-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['greeter:9000'] });
  const client = new EchoClient(`127.0.0.1:${caller.upstreamPorts['greeter:9000']}`, grpc.credentials.createInsecure()) as any;
  cleanup(t, () => client.close());

  const unary = (text: string) =>
    new Promise<any>((resolve, reject) => client.unary({ text }, { deadline: Date.now() + 3000 }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
  await waitFor(async () => (await unary('ping')).echo === 'ping', 'a unary call through the mesh', 15000);
  assert.deepEqual(await unary('hello'), { echo: 'hello', served_by: 'greeter-v1' });

  const call = client.chat();
  const replies: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (m: { echo: string }) => replies.push(m.echo));
    call.on('end', resolve);
    call.on('error', reject);
  });
  for (let i = 0; i < 10; i++) call.write({ text: `m${i}` });
  call.end();
  await done;
  assert.deepEqual(
    replies,
    Array.from({ length: 10 }, (_, i) => `m${i}`),
  );
  assert.ok((await counter(server.adminUrl, 'trellis_requests_total', { direction: 'inbound' })) >= 2, 'the server sidecar saw the calls');
});

test('an opaque TCP connection crosses two sidecars with bytes intact and half-close honoured', { timeout: 60000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [service('tcp-echo', 'tcp'), service('caller', 'http')]);
  const server = await startWorkload(t, cp, { service: 'tcp-echo', app: [process.execPath, path.join(FIXTURES, 'tcp-echo-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['tcp-echo:9000'] });
  const port = caller.upstreamPorts['tcp-echo:9000']!;
  const payload = Buffer.alloc(256 * 1024, 7);

  const exchange = () =>
    new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('tcp exchange timed out')));
      socket.end(payload);
    });
  let reply: Buffer = Buffer.alloc(0);
  const attempts: string[] = [];
  await waitFor(
    async () => {
      const started = Date.now();
      try {
        reply = await exchange();
      } catch (e) {
        attempts.push(`${(e as Error).message} after ${Date.now() - started} ms`);
        throw e;
      }
      attempts.push(`${reply.length} bytes after ${Date.now() - started} ms`);
      return reply.length > 0;
    },
    'a TCP exchange through the mesh',
    15000,
  ).catch(async (e: Error) => {
    // What both sidecars run, to tell a missing endpoint from a wrong listener.
    const dump = async (url: string) => {
      try {
        return JSON.stringify(await (await fetch(`${url}/config_dump`, { signal: AbortSignal.timeout(2000) })).json());
      } catch (d) {
        return `(no config_dump: ${(d as Error).message})`;
      }
    };
    throw new Error(`${e.message}; last attempts: ${attempts.slice(-3).join(', ')}; caller: ${await dump(caller.adminUrl)}; server: ${await dump(server.adminUrl)}`);
  });
  const greeting = Buffer.from('hello from tcp-echo\n');
  assert.equal(reply.subarray(0, greeting.length).toString(), greeting.toString());
  assert.ok(reply.subarray(greeting.length).equals(payload), `echoed ${reply.length - greeting.length} of ${payload.length} bytes`);
});
