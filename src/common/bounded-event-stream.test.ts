// A subscriber that stops reading: what waits for it stays bounded, the rest is dropped and
// counted, and it is told how many it missed once it reads again.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { BoundedEventStream } from './bounded-event-stream.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('events for a client that does not read are dropped past the bound, counted, and reported when it reads again', { timeout: 30_000 }, async (t) => {
  const max = 64 * 1024;
  let stream: BoundedEventStream | undefined;
  let res: http.ServerResponse | undefined;
  let counted = 0;
  const server = http.createServer((_req, r) => {
    r.writeHead(200, { 'content-type': 'text/event-stream' });
    res = r;
    stream = new BoundedEventStream(r, { maxBufferedBytes: max, onDrop: () => counted++ });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  t.after(() => {
    client.destroy();
    server.closeAllConnections();
    server.close();
  });
  client.pause();
  client.write('GET /tap HTTP/1.1\r\nhost: x\r\n\r\n');
  for (let i = 0; i < 500 && stream === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(stream && res, 'the request arrived');
  const event = 'x'.repeat(1000);
  let sent = 0;
  let maxBuffered = 0;
  // Bounded: at most 400 rounds of 200 events (80 MB offered), until the kernel's buffers are full and drops begin.
  for (let round = 0; round < 400 && stream.dropped === 0; round++) {
    for (let i = 0; i < 200; i++) if (stream.send(() => JSON.stringify(event))) sent++;
    maxBuffered = Math.max(maxBuffered, res.writableLength);
    await tick();
  }
  assert.ok(stream.dropped > 0, 'events were dropped once the client fell behind');
  for (let i = 0; i < 1000; i++) stream.send(() => JSON.stringify(event));
  maxBuffered = Math.max(maxBuffered, res.writableLength);
  assert.ok(maxBuffered <= max + 2048, `at most the bound plus one event waited in memory, got ${maxBuffered}`);
  assert.equal(counted, stream.dropped);

  // The client reads again: it gets what was buffered and, before the next events, notices of what it missed.
  let text = '';
  client.setEncoding('utf8');
  client.on('data', (c: string) => {
    text += c;
  });
  client.resume();
  for (let i = 0; i < 3000 && !text.includes('data: "after"'); i++) {
    if (stream.writable) stream.send(() => '"after"');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(text.includes('data: "after"'), 'the client caught up');
  const notices = [...text.matchAll(/event: dropped\ndata: \{"dropped":(\d+)\}\n\n/g)].map((m) => Number(m[1]));
  assert.ok(notices.length > 0, 'the client was told it missed events');
  assert.equal(
    notices.reduce((a, b) => a + b, 0),
    stream.dropped,
    'every dropped event was reported',
  );
  assert.ok(sent > 0);
});
