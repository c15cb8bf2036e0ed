// GRPCRoute (by service and method) and TCPRoute (weighted split of opaque TCP) across real sidecars.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { cleanup } from './cleanup.js';
import grpc from '@grpc/grpc-js';
import { waitFor } from '../../src/common/wait.js';
import { applyResources, FIXTURES, startControlPlane, startWorkload } from './harness.js';

// The test app's own service definition (JSON messages), so client and server cannot drift apart.
const { echoService } = (await import(path.join(FIXTURES, 'grpc-app.mjs'))) as { echoService: grpc.ServiceDefinition };
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');

function service(name: string, appProtocol: string, selector: Record<string, string> = { app: name }) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector, ports: [{ name: 'main', port: 9000, appProtocol }] } };
}

test('a GRPCRoute sends one method to v2 and the rest to v1', { timeout: 90_000 }, async (t) => {
  const cp = await startControlPlane(t);
  const ref = (name: string) => ({ name, port: 9000 });
  await applyResources(cp, [
    service('greeter', 'grpc'),
    service('greeter-v1', 'grpc', { app: 'greeter', version: 'v1' }),
    service('greeter-v2', 'grpc', { app: 'greeter', version: 'v2' }),
    service('caller', 'http'),
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GRPCRoute',
      metadata: { name: 'greeter', namespace: 'default' },
      spec: {
        parentRefs: [{ kind: 'Service', name: 'greeter', port: 9000 }],
        rules: [{ matches: [{ method: { service: 'test.Echo', method: 'Unary' } }], backendRefs: [ref('greeter-v2')] }, { backendRefs: [ref('greeter-v1')] }],
      },
    },
  ]);
  for (const version of ['v1', 'v2']) await startWorkload(t, cp, { service: 'greeter', version, app: [process.execPath, path.join(FIXTURES, 'grpc-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['greeter:9000'] });
  const client = new EchoClient(`127.0.0.1:${caller.upstreamPorts['greeter:9000']}`, grpc.credentials.createInsecure()) as any;
  cleanup(t, () => client.close());
  const unary = (text: string) =>
    new Promise<any>((resolve, reject) => client.unary({ text }, { deadline: Date.now() + 3000 }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
  await waitFor(async () => (await unary('ping')).served_by === 'greeter-v2', 'Unary routed to v2', 15_000);
  for (let i = 0; i < 20; i++) assert.equal((await unary(`m${i}`)).served_by, 'greeter-v2');
  for (let i = 0; i < 5; i++) {
    const call = client.chat();
    const replies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on('data', (m: { served_by: string }) => replies.push(m.served_by));
      call.on('end', resolve);
      call.on('error', reject);
      call.write({ text: 'x' });
      call.end();
    });
    assert.deepEqual(replies, ['greeter-v1'], 'Chat matches no method rule: v1');
  }
});

test('a TCPRoute splits connections 90/10 (400 connections, within ±40)', { timeout: 120_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    service('tcp-echo', 'tcp'),
    service('tcp-a', 'tcp'),
    service('tcp-b', 'tcp'),
    service('caller', 'http'),
    {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TCPRoute',
      metadata: { name: 'tcp-echo', namespace: 'default' },
      spec: {
        parentRefs: [{ kind: 'Service', name: 'tcp-echo', port: 9000 }],
        rules: [
          {
            backendRefs: [
              { name: 'tcp-a', port: 9000, weight: 90 },
              { name: 'tcp-b', port: 9000, weight: 10 },
            ],
          },
        ],
      },
    },
  ]);
  for (const name of ['tcp-a', 'tcp-b']) await startWorkload(t, cp, { service: name, app: [process.execPath, path.join(FIXTURES, 'tcp-echo-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['tcp-echo:9000'] });
  const port = caller.upstreamPorts['tcp-echo:9000']!;
  const greet = () =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => {
        text += c;
        if (text.includes('\n')) {
          socket.destroy();
          resolve(text.split('\n')[0]!);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.setTimeout(5000, () => socket.destroy(new Error('no greeting')));
    });
  await waitFor(async () => (await greet().catch(() => '')).startsWith('hello from tcp-'), 'TCP through the mesh', 15_000);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 400; i++) {
    const g = await greet();
    counts[g] = (counts[g] ?? 0) + 1;
  }
  // Binomial(400, 0.1): standard deviation 6; ±40 is beyond 6 sigma.
  assert.ok(Math.abs((counts['hello from tcp-b'] ?? 0) - 40) <= 40 && (counts['hello from tcp-a'] ?? 0) + (counts['hello from tcp-b'] ?? 0) === 400, JSON.stringify(counts));
  assert.ok((counts['hello from tcp-b'] ?? 0) > 0, 'tcp-b gets its share');
});

test("regression issue 12: GRPCRoute filters modify a call's request and response headers across real sidecars", { timeout: 90_000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [
    service('greeter', 'grpc'),
    service('caller', 'http'),
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GRPCRoute',
      metadata: { name: 'greeter', namespace: 'default' },
      spec: {
        parentRefs: [{ kind: 'Service', name: 'greeter', port: 9000 }],
        rules: [
          {
            matches: [{ method: { service: 'test.Echo', method: 'Unary' } }],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-tenant', value: 'blue' }], remove: ['x-debug'] } },
              { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-via', value: 'mesh' }] } },
            ],
            backendRefs: [{ name: 'greeter', port: 9000 }],
          },
        ],
      },
    },
  ]);
  await startWorkload(t, cp, { service: 'greeter', app: [process.execPath, path.join(FIXTURES, 'grpc-app.mjs')] });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['greeter:9000'] });
  const client = new EchoClient(`127.0.0.1:${caller.upstreamPorts['greeter:9000']}`, grpc.credentials.createInsecure()) as any;
  cleanup(t, () => client.close());
  const unary = () =>
    new Promise<{ reply: any; served: string[] }>((resolve, reject) => {
      const sent = new grpc.Metadata();
      sent.set('x-tenant', 'red');
      sent.set('x-debug', '1');
      let served: string[] = [];
      const call = client.unary({ text: 'hi', echo_headers: ['x-tenant', 'x-debug'] }, sent, { deadline: Date.now() + 3000 }, (e: Error | null, reply: unknown) =>
        e ? reject(e) : resolve({ reply, served }),
      );
      call.on('metadata', (m: grpc.Metadata) => (served = m.get('x-served-via').map(String)));
    });
  await waitFor(async () => (await unary().catch(() => undefined))?.reply.headers?.['x-tenant']?.[0] === 'blue', 'the request header set by the GRPCRoute', 15_000);
  const { reply, served } = await unary();
  assert.deepEqual(reply.headers, { 'x-tenant': ['blue'], 'x-debug': [] }, "x-tenant set over the caller's value, x-debug removed");
  assert.deepEqual(served, ['mesh'], 'the response header added by the GRPCRoute');
});
