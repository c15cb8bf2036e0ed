// WebSocket (HTTP/1.1 Upgrade) through two sidecars over mTLS, with the real `ws` client and
// server: text, binary and large messages echoed, the close handshake from either side, the
// upgraded connection in the metrics and the access log, an app's non-101 answer relayed as an
// ordinary response, other upgrades refused, h2c served as a plain request, an
// AuthorizationPolicy refusing an upgrade with 403 before anything reaches the app, and (root
// only) an unmodified client by mesh name through two transparent (captured) sidecars.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { waitFor } from '../../src/common/wait.js';
import { cleanup } from './cleanup.js';
import { applyResources, counter, FIXTURES, httpService, startControlPlane, startWorkload } from './harness.js';
import { requireTestHosts, startCapturedWorkload, startTransparentMesh, sumCounter, TRANSPARENT_FIXTURES } from './transparent-harness.js';

const WS_APP = [process.execPath, path.join(FIXTURES, 'ws-echo-app.mjs')];
const MESH_WITH_ACCESS_LOG = { apiVersion: 'trellis.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'default' }, spec: { accessLog: { enabled: true } } };

type Message = { data: Buffer; binary: boolean };

/** An open WebSocket with its messages queued, or the HTTP status it was refused with. */
function connect(
  url: string,
  headers: Record<string, string> = {},
): Promise<
  { ws: WebSocket; next: () => Promise<Message>; closed: Promise<{ code: number; reason: string }> } | { status: number; body: string; headers: http.IncomingHttpHeaders }
> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 5000, maxPayload: 64 * 1024 * 1024, headers });
    const queue: Message[] = [];
    const waiting: ((m: Message) => void)[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => {
      const m = { data, binary };
      const w = waiting.shift();
      if (w) w(m);
      else queue.push(m);
    });
    const closed = new Promise<{ code: number; reason: string }>((res) => ws.once('close', (code, reason) => res({ code, reason: reason.toString() })));
    ws.once('open', () =>
      resolve({
        ws,
        closed,
        next: () => {
          const m = queue.shift();
          return m ? Promise.resolve(m) : new Promise<Message>((res) => waiting.push(res));
        },
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    ws.once('error', reject);
  });
}

async function open(url: string, headers: Record<string, string> = {}) {
  const c = await connect(url, headers);
  if ('status' in c) throw new Error(`the upgrade was answered ${c.status}: ${c.body}`);
  return c;
}

/** A plain HTTP/1.1 request with `headers` (an upgrade the client does not expect to complete). */
function request(url: string, headers: Record<string, string>, viaProxyPort?: number): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    // Through the HTTP proxy listener: the absolute-form target an HTTP_PROXY client sends.
    const u = new URL(url);
    const options: http.RequestOptions =
      viaProxyPort === undefined
        ? { host: u.hostname, port: u.port, path: u.pathname, headers, agent: false, timeout: 5000 }
        : { host: '127.0.0.1', port: viaProxyPort, path: url, headers: { ...headers, host: u.host }, agent: false, timeout: 5000 };
    const req = http.request(options, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

test('a WebSocket crosses two sidecars over mTLS: messages of every kind, the close handshake both ways, metrics and access log', { timeout: 120000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('chat'), httpService('caller'), MESH_WITH_ACCESS_LOG]);
  const server = await startWorkload(t, cp, { service: 'chat', app: WS_APP });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['chat:8080'] });
  const base = `ws://127.0.0.1:${caller.upstreamPorts['chat:8080']}`;

  const traceId = randomBytes(16).toString('hex');
  let first: Awaited<ReturnType<typeof open>> | undefined;
  await waitFor(
    async () => {
      first = await open(`${base}/echo`, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` }).catch(() => undefined);
      return first !== undefined;
    },
    'a WebSocket through the mesh',
    20000,
  );
  const { ws, next, closed } = first!;
  cleanup(t, () => ws.terminate());

  ws.send('hello');
  const text = await next();
  assert.deepEqual([text.binary, text.data.toString()], [false, 'hello']);

  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  ws.send(binary);
  const echoed = await next();
  assert.equal(echoed.binary, true);
  assert.ok(echoed.data.equals(binary), 'binary frame intact');

  const large = randomBytes(4 * 1024 * 1024);
  ws.send(large);
  const bigEcho = await next();
  assert.equal(bigEcho.data.length, large.length);
  assert.ok(bigEcho.data.equals(large), 'a 4 MiB message comes back intact');

  // The upgrade request passed the same layers as any: the trace continued by both sidecars, the upgrade kept.
  ws.send('headers');
  const seen = JSON.parse((await next()).data.toString()) as Record<string, string>;
  assert.equal(seen.upgrade?.toLowerCase(), 'websocket');
  assert.match(seen.connection ?? '', /upgrade/i);
  assert.ok(seen['sec-websocket-key'], 'the WebSocket handshake fields pass');
  assert.match(seen.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

  // The client closes: the close frame goes through and the server's answer comes back.
  ws.close(1000, 'done');
  assert.deepEqual(await closed, { code: 1000, reason: 'done' });

  // The server closes.
  const second = await open(`${base}/echo`);
  cleanup(t, () => second.ws.terminate());
  second.ws.send('close-me');
  assert.deepEqual(await second.closed, { code: 4001, reason: 'bye' });

  // Both sidecars counted two upgraded requests with status 101, and their bytes, once they ended.
  for (const [w, direction] of [
    [caller, 'outbound'],
    [server, 'inbound'],
  ] as const) {
    await waitFor(async () => (await counter(w.adminUrl, 'trellis_requests_total', { direction, code: '101' })) === 2, `${direction} 101s counted`, 10000);
    const sent = await counter(w.adminUrl, 'trellis_request_body_bytes_total', { direction });
    const received = await counter(w.adminUrl, 'trellis_response_body_bytes_total', { direction });
    assert.ok(sent >= large.length && received >= large.length, `${direction} bytes relayed: ${sent} up, ${received} down`);
  }
  // Access log lines are written in 4 KiB batches: plain requests push the 101 lines out.
  const plainUrl = `http://127.0.0.1:${caller.upstreamPorts['chat:8080']}/`;
  await waitFor(
    async () => {
      await (await fetch(plainUrl)).text();
      return /"response_code":101/.test(caller.output()) && /"response_code":101/.test(server.output());
    },
    'access log lines for the upgraded connections',
    20000,
  );
  const line = caller
    .output()
    .split('\n')
    .find((l) => l.includes('"response_code":101'))!;
  const entry = JSON.parse(line.slice(line.indexOf('{'))) as { bytes_sent: number; bytes_received: number; path: string; direction: string };
  assert.equal(entry.direction, 'outbound');
  assert.equal(entry.path, '/echo');
  assert.ok(entry.bytes_sent >= large.length && entry.bytes_received >= large.length, `logged bytes ${entry.bytes_received} / ${entry.bytes_sent}`);
});

test("an app's non-101 answer to an upgrade is relayed as a response; other upgrades get 403, h2c a plain response", { timeout: 120000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('chat'), httpService('caller')]);
  await startWorkload(t, cp, { service: 'chat', app: WS_APP });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['chat:8080'] });
  const port = caller.upstreamPorts['chat:8080'];
  await waitFor(async () => (await request(`http://127.0.0.1:${port}/`, {}).catch(() => ({ status: 0 }))).status === 200, 'the chat service through the mesh', 20000);

  for (const status of [400, 200]) {
    const answer = await connect(`ws://127.0.0.1:${port}/reject-${status}`);
    assert.ok('status' in answer, `the upgrade to /reject-${status} was not refused`);
    assert.equal(answer.status, status);
    assert.equal(answer.body, `refused with ${status}`);
    assert.equal(answer.headers['x-app'], 'ws-echo');
  }
  // The connections those used are closed, not reused: a WebSocket still opens afterwards.
  const after = await open(`ws://127.0.0.1:${port}/echo`);
  after.ws.send('still here');
  assert.equal((await after.next()).data.toString(), 'still here');
  after.ws.close();

  // The HTTP proxy listener passes an upgrade sent in absolute form: the app's handshake answer comes back.
  const handshake = { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
  const viaProxy = await request('http://chat:8080/echo', handshake, caller.httpProxyPort);
  assert.equal(viaProxy.status, 101);
  assert.equal(viaProxy.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');

  const other = await request(`http://127.0.0.1:${port}/`, { connection: 'upgrade', upgrade: 'foo/1' });
  assert.equal(other.status, 403);
  assert.equal(other.headers['x-trellis-error'], 'FORBIDDEN');
  assert.match(other.body, /upgrade to "foo\/1" is not allowed/);

  // h2c is not passed on: the app gets an ordinary request (an upgrade would reach its ws server and fail).
  const h2c = await request(`http://127.0.0.1:${port}/`, { connection: 'upgrade, http2-settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' });
  assert.deepEqual([h2c.status, h2c.body], [200, 'plain']);
});

test('an AuthorizationPolicy denies an upgrade with 403 and no relay', { timeout: 120000 }, async (t) => {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('chat'), httpService('caller')]);
  const server = await startWorkload(t, cp, { service: 'chat', app: WS_APP });
  const caller = await startWorkload(t, cp, { service: 'caller', upstreams: ['chat:8080'] });
  const base = `ws://127.0.0.1:${caller.upstreamPorts['chat:8080']}`;
  await waitFor(
    async () =>
      (await open(`${base}/echo`)
        .then((c) => (c.ws.close(), true))
        .catch(() => false)) === true,
    'a WebSocket through the mesh',
    20000,
  );

  await applyResources(cp, [
    {
      apiVersion: 'trellis.dev/v1alpha1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'no-websocket', namespace: 'default' },
      spec: { targetRef: { kind: 'Service', name: 'chat' }, action: 'DENY', rules: [{ to: [{ headers: [{ name: 'upgrade', present: true }] }] }] },
    },
  ]);
  let refused: Awaited<ReturnType<typeof connect>> | undefined;
  await waitFor(
    async () => {
      refused = await connect(`${base}/echo`).catch(() => undefined);
      if (refused !== undefined && !('status' in refused)) refused.ws.terminate();
      return refused !== undefined && 'status' in refused && refused.status === 403;
    },
    'the DENY policy to refuse the upgrade',
    15000,
  );
  assert.ok(refused !== undefined && 'status' in refused);
  assert.equal(refused.headers['x-trellis-error'], 'FORBIDDEN');
  assert.match(refused.body, /denied by policy default\/no-websocket/);
  const upgradedBefore = await counter(server.adminUrl, 'trellis_requests_total', { direction: 'inbound', code: '101' });
  await connect(`${base}/echo`);
  assert.equal(await counter(server.adminUrl, 'trellis_requests_total', { direction: 'inbound', code: '101' }), upgradedBefore, 'no upgrade was relayed');
  assert.ok((await counter(server.adminUrl, 'trellis_requests_total', { direction: 'inbound', code: '403' })) >= 2);
  // Plain requests still pass.
  const plain = await fetch(`http://127.0.0.1:${caller.upstreamPorts['chat:8080']}/`);
  assert.deepEqual([plain.status, await plain.text()], [200, 'plain']);
});

test('transparent mode: an unmodified WebSocket client reaches a WebSocket server by mesh name through both captured sidecars', { timeout: 240_000 }, async (t) => {
  if (!requireTestHosts(t)) return;
  const mesh = await startTransparentMesh(t, 'w');
  const chatService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'chat', namespace: 'default' },
    spec: { selector: { app: 'chat' }, ports: [{ name: 'main', port: 8080, appProtocol: 'http' }] },
  };
  const callerService = { ...chatService, metadata: { name: 'caller', namespace: 'default' }, spec: { ...chatService.spec, selector: { app: 'caller' } } };
  await applyResources(mesh.cp, [chatService, callerService]);
  const [caller, chat] = await Promise.all([
    startCapturedWorkload(t, mesh, { host: 'caller', service: 'caller', port: 8080, app: WS_APP }),
    startCapturedWorkload(t, mesh, { host: 'chat', service: 'chat', port: 8080, app: WS_APP }),
  ]);
  const client = [process.execPath, path.join(TRANSPARENT_FIXTURES, 'ws-client.mjs'), 'ws://chat.mesh:8080/echo'];
  let result: { text: string; binaryIntact: boolean; code: number } | undefined;
  await waitFor(
    async () => {
      result = JSON.parse(await mesh.lab.execAsync('caller', client).catch(() => 'null')) as typeof result;
      return result !== null && result !== undefined;
    },
    'a WebSocket by mesh name',
    30000,
    500,
  );
  assert.deepEqual(result, { text: 'hello', binaryIntact: true, code: 1000 });
  await waitFor(
    async () => sumCounter(caller.metrics(), 'trellis_requests_total', { direction: 'outbound', service: 'chat.default', code: '101' }) >= 1,
    'the caller sidecar counted the upgrade',
    10000,
  );
  await waitFor(async () => sumCounter(chat.metrics(), 'trellis_requests_total', { direction: 'inbound', code: '101' }) >= 1, 'the chat sidecar counted the upgrade', 10000);
});
