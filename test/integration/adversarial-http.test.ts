// Hostile HTTP against a real sidecar pair (issue 10, items 8-11), from the attacker's side:
// slow and broken request heads, idle connection floods, HTTP/2 rapid reset, smuggling-shaped
// heads, and what a 502 tells. Each attack goes at the client sidecar's outbound listener while
// a well-behaved client keeps being served; what reached the app is read back from the app.
// Timing is only ever an upper bound: every wait polls with generous limits.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../../src/common/wait.js';
import { DEFAULT_DOWNSTREAM_LIMITS } from '../../src/proxy/listeners/downstream-limits.js';
import { cleanup } from './cleanup.js';
import { applyResources, counter, FIXTURES, get, httpService, startControlPlane, startWorkload, waitForStatus, type Workload } from './harness.js';

const HEAD_TIMEOUT_MS = DEFAULT_DOWNSTREAM_LIMITS.requestHeadTimeoutMs;
/** Generous on a loaded machine, and still well short of what the proxy used to allow (30 s for silence, forever for a partial head). */
const CLOSED_WITHIN_MS = HEAD_TIMEOUT_MS + 15_000;
const IP_ADDRESS = /\b\d{1,3}(?:\.\d{1,3}){3}\b|\[[0-9a-f:]+\]/i;

interface Mesh {
  server: Workload;
  client: Workload;
  /** The client sidecar's outbound listener for server:8080. */
  port: number;
}

async function startMesh(t: TestContext, extra: { broken?: boolean } = {}): Promise<Mesh & { broken?: Workload }> {
  const cp = await startControlPlane(t);
  await applyResources(cp, [httpService('server'), httpService('client'), ...(extra.broken ? [httpService('broken'), httpService('empty')] : [])]);
  const server = await startWorkload(t, cp, { service: 'server', app: [process.execPath, path.join(FIXTURES, 'counting-app.mjs')] });
  const client = await startWorkload(t, cp, { service: 'client', upstreams: ['server:8080', ...(extra.broken ? ['broken:8080', 'empty:8080'] : [])] });
  const port = client.upstreamPorts['server:8080']!;
  await waitForStatus(`http://127.0.0.1:${port}/ready`, 200, 20_000);
  if (!extra.broken) return { server, client, port };
  // An app that never listens: the broken sidecar's connect to it is refused. Without a
  // readiness check its endpoint is taken as ready, so callers reach its sidecar (and get 502).
  const broken = await startWorkload(t, cp, {
    service: 'broken',
    app: [process.execPath, '-e', 'setInterval(() => {}, 1e6)'],
    noWait: true,
    runArgs: ['--readiness-probe', 'none'],
  });
  await waitFor(
    async () =>
      await fetch(broken.adminUrl + '/ready').then(
        (r) => r.ok,
        () => false,
      ),
    "the broken workload's proxy ready",
    45_000, // as the harness waits for any proxy: this one starts while the machine is busy with others
  );
  return { server, client, port, broken };
}

/** What reached the app: requests per first path segment, and header values with CR/LF/NUL or named x-injected. */
async function seen(mesh: Mesh): Promise<{ counts: Record<string, number>; suspicious: unknown[] }> {
  return (await get(`http://127.0.0.1:${mesh.server.appPort}/__seen`)).body;
}

/** The sidecar process of a workload (the `trellis proxy` in its process group). */
function proxyPid(w: Workload): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (pgrp === w.child.pid && argv.includes('proxy')) return Number(entry);
    } catch {
      /* gone meanwhile */
    }
  }
  throw new Error(`no proxy process in the group of ${w.child.pid}`);
}
const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** A raw connection that keeps what it received and when it closed. */
function rawConnection(t: TestContext, port: number): { socket: net.Socket; received: () => Buffer; closed: Promise<void>; isClosed: () => boolean } {
  const socket = net.connect(port, '127.0.0.1');
  let received = Buffer.alloc(0);
  let isClosed = false;
  socket.on('data', (c) => (received = Buffer.concat([received, c])));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) =>
    socket.once('close', () => {
      isClosed = true;
      r();
    }),
  );
  cleanup(t, () => socket.destroy());
  return { socket, received: () => received, closed, isClosed: () => isClosed };
}

/** Resolves once `closed` settles; fails past `ms`. */
async function closedWithin(what: string, closed: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A well-behaved HTTP/1.1 client on one keep-alive connection, asking every 100 ms until stopped; resolves with the statuses. */
function politeClient(port: number, path = '/polite'): { stop: () => Promise<number[]> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  let running = true;
  const ask = () =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { host: 'server:8080' } }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses.push(res.statusCode!);
          resolve();
        });
      });
      req.on('error', () => {
        statuses.push(0);
        resolve();
      });
      req.setTimeout(10_000, () => req.destroy());
    });
  const loop = (async () => {
    for (let i = 0; running && i < 2000; i++) {
      await ask();
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return statuses;
    },
  };
}

// ---- A minimal HTTP/2 frame writer and reader, for what node's client will not send ----

function hpackInt(value: number, prefixBits: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [value];
  const out = [max];
  for (value -= max; value >= 128; value >>= 7) out.push((value & 127) | 128);
  out.push(value);
  return out;
}
/** Literal header fields without indexing, no Huffman: any bytes at all, CR and LF included. */
function hpack(fields: [string, string][]): Buffer {
  return Buffer.concat(
    fields.flatMap(([n, v]) => {
      const name = Buffer.from(n, 'latin1');
      const value = Buffer.from(v, 'latin1');
      return [Buffer.from([0, ...hpackInt(name.length, 7)]), name, Buffer.from(hpackInt(value.length, 7)), value];
    }),
  );
}
function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const H2 = {
  start: () => Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0)]),
  headers: (id: number, fields: [string, string][], endStream: boolean) => frame(1, END_HEADERS | (endStream ? END_STREAM : 0), id, hpack(fields)),
  data: (id: number, body: string, endStream: boolean) => frame(0, endStream ? END_STREAM : 0, id, Buffer.from(body)),
  rst: (id: number, code: number) => {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(code);
    return frame(3, 0, id, p);
  },
};
const request = (path: string): [string, string][] => [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', path],
  [':authority', 'server:8080'],
];
/** The frames the server sent that end or answer a stream: RST_STREAM and GOAWAY with their error code, HEADERS. */
function streamFrames(bytes: Buffer): { type: 'rst' | 'goaway' | 'headers'; stream: number; code: number }[] {
  const out: { type: 'rst' | 'goaway' | 'headers'; stream: number; code: number }[] = [];
  for (let at = 0; at + 9 <= bytes.length;) {
    const length = bytes.readUIntBE(at, 3);
    const type = bytes[at + 3]!;
    const stream = bytes.readUInt32BE(at + 5) & 0x7fffffff;
    if (at + 9 + length > bytes.length) break;
    if (type === 3) out.push({ type: 'rst', stream, code: bytes.readUInt32BE(at + 9) });
    if (type === 1) out.push({ type: 'headers', stream, code: 0 });
    if (type === 7) out.push({ type: 'goaway', stream: bytes.readUInt32BE(at + 9) & 0x7fffffff, code: bytes.readUInt32BE(at + 13) });
    at += 9 + length;
  }
  return out;
}

/** One h2c request with node's client; resolves with the status. */
async function h2Get(t: TestContext, port: number, path: string): Promise<number> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanup(t, () => session.destroy());
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ':authority': 'server:8080' });
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => {
        session.close();
        resolve(Number(h[':status']));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('hostile HTTP at a sidecar pair: the sidecar closes or refuses it and keeps serving everyone else', { timeout: 600_000 }, async (t) => {
  const mesh = await startMesh(t, { broken: true });

  await t.test('slow, partial and broken request heads are answered 408 or 400 and closed within the bound, while a polite client is served', async (t) => {
    const polite = politeClient(mesh.port);

    const trickle = rawConnection(t, mesh.port);
    const partial = rawConnection(t, mesh.port);
    const oneByte = rawConnection(t, mesh.port);
    const silent = rawConnection(t, mesh.port);
    const http09 = rawConnection(t, mesh.port);
    partial.socket.write('GET /partial HTTP/1.1\r\nHost: server:8080\r\n');
    oneByte.socket.write('G');
    http09.socket.write('GET /http09\r\n');
    // Slowloris: a valid head, one byte every 200 ms, never finished (bounded: it stops once closed).
    const slow = Buffer.from('GET /slowloris HTTP/1.1\r\nHost: server:8080\r\nX-Padding: ' + 'a'.repeat(1000));
    const started = Date.now();
    void (async () => {
      for (let i = 0; i < slow.length && !trickle.isClosed() && Date.now() - started < CLOSED_WITHIN_MS + 5000; i++) {
        trickle.socket.write(slow.subarray(i, i + 1));
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    await closedWithin('HTTP/0.9 request line', http09.closed, CLOSED_WITHIN_MS);
    assert.match(http09.received().toString(), /^HTTP\/1\.1 400 /, 'HTTP/0.9 gets 400 at once');
    assert.match(http09.received().toString(), /x-trellis-error: BAD_REQUEST/);
    for (const [what, c] of [
      ['slowloris trickle', trickle],
      ['partial head', partial],
      ['single byte', oneByte],
    ] as const) {
      await closedWithin(what, c.closed, CLOSED_WITHIN_MS);
      assert.match(c.received().toString(), /^HTTP\/1\.1 408 /, `${what}: ${c.received().toString()}`);
      assert.match(c.received().toString(), /x-trellis-error: REQUEST_HEAD_TIMEOUT/);
    }
    await closedWithin('silent connection', silent.closed, CLOSED_WITHIN_MS);
    assert.equal(silent.received().length, 0, 'a connection that said nothing is closed without an answer');

    const statuses = await polite.stop();
    assert.ok(statuses.length >= 20, `the polite client kept asking (${statuses.length} requests)`);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'every polite request got 200',
    );
    assert.equal((await seen(mesh)).counts['partial'], undefined, 'nothing of the partial heads reached the app');
    assert.ok((await counter(mesh.client.adminUrl, 'trellis_downstream_rejected_total', { reason: 'head_timeout' })) >= 4, 'timeouts are counted');
    assert.ok((await counter(mesh.client.adminUrl, 'trellis_downstream_rejected_total', { reason: 'malformed_request' })) >= 1, 'HTTP/0.9 is counted');
  });

  await t.test("an idle connection flood: connections past the cap are refused, the rest closed within the bound, and the proxy's descriptors come back", async (t) => {
    const pid = proxyPid(mesh.client);
    const polite = politeClient(mesh.port);
    await waitFor(async () => true, 'settle', 1000);
    const baseline = fdCount(pid);
    const cap = DEFAULT_DOWNSTREAM_LIMITS.maxConnectionsPerListener;
    const total = cap + 200;
    const sockets: ReturnType<typeof rawConnection>[] = [];
    // Opened 200 at a time, each waiting to connect (or be refused).
    for (let i = 0; i < total; i += 200) {
      const batch = Array.from({ length: Math.min(200, total - i) }, () => rawConnection(t, mesh.port));
      sockets.push(...batch);
      await Promise.all(
        batch.map(
          (c) =>
            new Promise<void>((r) => {
              c.socket.once('connect', () => r());
              c.socket.once('close', () => r());
            }),
        ),
      );
    }
    await waitFor(
      async () => (await counter(mesh.client.adminUrl, 'trellis_downstream_rejected_total', { reason: 'connection_limit' })) >= 150,
      'connections past the cap refused and counted',
      20_000,
    );
    assert.ok(fdCount(pid) > baseline + cap / 2, `the proxy held the connections under the cap (${fdCount(pid)} descriptors, ${baseline} before)`);

    const started = Date.now();
    await closedWithin(
      'the idle connections',
      Promise.all(sockets.map((c) => c.closed)).then(() => undefined),
      CLOSED_WITHIN_MS + 10_000,
    );
    const statuses = await polite.stop();
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'the polite client on its keep-alive connection got 200 throughout',
    );
    await waitFor(async () => fdCount(pid) <= baseline + 10, `the proxy's descriptors back near ${baseline} (now ${fdCount(pid)})`, 15_000);
    t.diagnostic(`${total} idle connections: all closed ${Date.now() - started} ms after the last was opened; proxy descriptors ${baseline} -> ${fdCount(pid)}`);
  });

  await t.test('HTTP/2 rapid reset: streams reset at once never reach the app, and the connection is sent away with ENHANCE_YOUR_CALM', async (t) => {
    const polite = politeClient(mesh.port);
    const attack = rawConnection(t, mesh.port);
    attack.socket.write(H2.start());
    const STREAMS = 1000;
    const CANCEL = 8;
    // HEADERS then RST_STREAM for each stream, 50 streams per write, until the server sends us away.
    for (let i = 0; i < STREAMS && !attack.isClosed(); i += 50) {
      const frames: Buffer[] = [];
      for (let j = i; j < i + 50; j++) frames.push(H2.headers(2 * j + 1, request(`/rapid-reset/${j}`), true), H2.rst(2 * j + 1, CANCEL));
      attack.socket.write(Buffer.concat(frames));
      await new Promise((r) => setImmediate(r));
    }
    await closedWithin('the rapid-reset connection', attack.closed, 30_000);
    const goaway = streamFrames(attack.received()).find((f) => f.type === 'goaway');
    assert.equal(goaway?.code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, `GOAWAY ENHANCE_YOUR_CALM (got ${JSON.stringify(goaway)})`);

    assert.equal(await h2Get(t, mesh.port, '/after-attack'), 200, 'a new HTTP/2 client is served');
    const statuses = await polite.stop();
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'the polite client got 200 throughout',
    );
    const reached = (await seen(mesh)).counts['rapid-reset'] ?? 0;
    assert.ok(reached < STREAMS / 20, `${reached} of ${STREAMS} reset streams reached the app`);
    assert.ok((await counter(mesh.client.adminUrl, 'trellis_downstream_rejected_total', { reason: 'h2_reset_flood' })) >= 1, 'counted');
    t.diagnostic(`${reached} of ${STREAMS} reset streams reached the app`);
  });

  await t.test('smuggling-shaped heads: duplicate Host is 400, 101 header fields are 431, CL+TE and differing Content-Lengths are 400; none reaches the app', async (t) => {
    const send = async (what: string, head: string): Promise<string> => {
      const c = rawConnection(t, mesh.port);
      c.socket.write(head);
      await closedWithin(what, c.closed, 15_000);
      return c.received().toString();
    };
    const dupHost = await send('duplicate Host', 'GET /dup-host HTTP/1.1\r\nHost: server:8080\r\nHost: evil.example\r\n\r\n');
    assert.match(dupHost, /^HTTP\/1\.1 400 /);
    assert.match(dupHost, /x-trellis-error: BAD_REQUEST/);
    assert.match(dupHost, /2 Host header fields/);
    const fields = Array.from({ length: 100 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
    const many = await send('101 header fields', `GET /many-headers HTTP/1.1\r\nHost: server:8080\r\n${fields}\r\n`);
    assert.match(many, /^HTTP\/1\.1 431 /);
    assert.match(many, /x-trellis-error: REQUEST_HEADERS_TOO_LARGE/);
    const justEnough = Array.from({ length: 99 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
    const ok = await new Promise<number>((resolve, reject) => {
      // Host and 99 more: exactly the limit (so no Connection: close; the answer's status line is enough).
      const c = net.connect(mesh.port, '127.0.0.1', () => c.write(`GET /hundred-headers HTTP/1.1\r\nHost: server:8080\r\n${justEnough}\r\n`));
      cleanup(t, () => c.destroy());
      let got = '';
      c.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.includes('\r\n')) {
          resolve(Number(got.split(' ')[1]));
          c.destroy();
        }
      });
      c.on('close', () => resolve(Number(got.split(' ')[1])));
      c.on('error', reject);
    });
    assert.equal(ok, 200, '100 header fields are still served');
    const clte = await send(
      'Content-Length and Transfer-Encoding',
      'POST /cl-te HTTP/1.1\r\nHost: server:8080\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.match(clte, /^HTTP\/1\.1 400 /);
    const twoLengths = await send('two Content-Lengths', 'POST /two-lengths HTTP/1.1\r\nHost: server:8080\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
    assert.match(twoLengths, /^HTTP\/1\.1 400 /);
    const counts = (await seen(mesh)).counts;
    for (const path of ['dup-host', 'many-headers', 'cl-te', 'two-lengths']) assert.equal(counts[path], undefined, `${path} never reached the app`);
    assert.equal(counts['hundred-headers'], 1);
  });

  await t.test('HTTP/2 streams whose body breaks their content-length are reset and never reach the app; CR/LF in a value never does either', async (t) => {
    const exchange = async (what: string, frames: Buffer[]): Promise<Buffer> => {
      const c = rawConnection(t, mesh.port);
      c.socket.write(Buffer.concat([H2.start(), ...frames]));
      // The proxy answers (or resets) within the bound; the connection is ours to close.
      await waitFor(async () => streamFrames(c.received()).length > 0, `${what}: an answer or a reset`, 15_000);
      await new Promise((r) => setTimeout(r, 200));
      c.socket.destroy();
      return c.received();
    };
    for (const [what, path, length, body] of [
      ['body longer than content-length', '/cl-longer', '5', '0123456789'],
      ['body shorter than content-length', '/cl-shorter', '10', '01234'],
    ] as const) {
      const got = await exchange(what, [H2.headers(1, [...request(path), ['content-length', length]], false), H2.data(1, body, true)]);
      const errors = streamFrames(got);
      assert.ok(
        errors.some((f) => (f.type === 'rst' && f.stream === 1 && f.code === http2.constants.NGHTTP2_PROTOCOL_ERROR) || (f.type === 'goaway' && f.code !== 0)),
        `${what}: stream 1 reset with PROTOCOL_ERROR (got ${JSON.stringify(errors)})`,
      );
    }
    // nghttp2 drops a field whose value holds CR, LF or NUL; what it lets through must not carry them.
    await exchange('CR/LF in a header value', [H2.headers(1, [...request('/crlf'), ['x-a', 'b\r\nx-injected: 1']], true)]);
    await exchange('NUL in a header value', [H2.headers(1, [...request('/nul'), ['x-a', 'b\0c']], true)]);
    const what = await seen(mesh);
    assert.equal(what.counts['cl-longer'], undefined, 'the over-long body never reached the app');
    assert.equal(what.counts['cl-shorter'], undefined, 'the short body never reached the app');
    assert.deepEqual(what.suspicious, [], 'no CR, LF, NUL or injected header reached the app');
  });

  await t.test('a 502 tells the client the error code, not the address of the endpoint behind it (nor does a 503)', async (t) => {
    const url = `http://127.0.0.1:${mesh.client.upstreamPorts['broken:8080']}/anything`;
    await waitFor(async () => (await get(url)).status === 502, 'the broken service to answer 502', 20_000);
    const res = await get(url);
    assert.equal(res.headers.get('x-trellis-error'), 'UPSTREAM_CONNECT_FAILED');
    assert.match(String(res.body), /upstream connect failed: ECONNREFUSED/);
    assert.doesNotMatch(String(res.body), IP_ADDRESS, `the 502 body names no address: ${res.body}`);
    assert.doesNotMatch(String(res.body), new RegExp(String(mesh.broken!.appPort)), 'nor the app port');
    // HTTP/2 (the body relayed by both sidecars) says the same.
    const session = http2.connect(`http://127.0.0.1:${mesh.client.upstreamPorts['broken:8080']}`);
    session.on('error', () => {});
    cleanup(t, () => session.destroy());
    const h2Body = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/anything', ':authority': 'broken:8080' });
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => resolve(body));
      req.on('error', reject);
      req.end();
    });
    assert.doesNotMatch(h2Body, IP_ADDRESS, `the HTTP/2 502 body names no address: ${h2Body}`);
    // A Service without endpoints: 503 from the client sidecar itself.
    const empty = await get(`http://127.0.0.1:${mesh.client.upstreamPorts['empty:8080']}/anything`);
    assert.equal(empty.status, 503);
    assert.doesNotMatch(String(empty.body), IP_ADDRESS, `the 503 body names no address: ${empty.body}`);
  });
});
