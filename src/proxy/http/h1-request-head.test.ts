// The upstream request head: one string, hop-by-hop fields out, framing decided.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyFraming, buildH1RequestHead } from './h1-request-head.js';

test('the head keeps end-to-end headers in order with their case', () => {
  const { head, framing } = buildH1RequestHead('GET', '/p?q=1', ['Host', 'svc', 'X-A', '1', 'accept', '*/*'], 'svc', false);
  assert.equal(head, 'GET /p?q=1 HTTP/1.1\r\nHost: svc\r\nX-A: 1\r\naccept: */*\r\n\r\n');
  assert.equal(framing, BodyFraming.None);
});

test('hop-by-hop headers and Expect are dropped, TE keeps only trailers', () => {
  const raw = [
    'Host',
    'h',
    'Connection',
    'keep-alive, X-Private',
    'X-Private',
    's',
    'Keep-Alive',
    '5',
    'Proxy-Connection',
    'k',
    'Upgrade',
    'websocket',
    'Expect',
    '100-continue',
    'TE',
    'gzip, trailers',
    'X-Ok',
    '1',
  ];
  const { head } = buildH1RequestHead('GET', '/', raw, 'h', false);
  assert.equal(head, 'GET / HTTP/1.1\r\nHost: h\r\nte: trailers\r\nX-Ok: 1\r\n\r\n');
});

test('content-length is kept and marks a body; zero means none', () => {
  assert.equal(buildH1RequestHead('POST', '/', ['Content-Length', '10'], 'h', false).framing, BodyFraming.Length);
  assert.equal(buildH1RequestHead('POST', '/', ['Content-Length', '0'], 'h', false).framing, BodyFraming.None);
  assert.match(buildH1RequestHead('POST', '/', ['Content-Length', '10'], 'h', false).head, /Content-Length: 10\r\n/);
});

test('a chunked request is re-chunked: its Transfer-Encoding replaced by ours', () => {
  const { head, framing } = buildH1RequestHead('POST', '/', ['Host', 'h', 'Transfer-Encoding', 'chunked'], 'h', false);
  assert.equal(framing, BodyFraming.Chunked);
  assert.equal(head, 'POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: chunked\r\n\r\n');
});

test('Host is replaced for absolute-form targets and added when missing', () => {
  assert.equal(buildH1RequestHead('GET', '/', ['Host', 'proxy'], 'svc.mesh', true).head, 'GET / HTTP/1.1\r\nhost: svc.mesh\r\n\r\n');
  assert.equal(buildH1RequestHead('GET', '/', [], 'svc.mesh', false).head, 'GET / HTTP/1.1\r\nhost: svc.mesh\r\n\r\n');
});

test('an upgrade passed on gets its Upgrade field back with Connection: upgrade; the client’s own hop-by-hop fields stay out', () => {
  const raw = ['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k==', 'Sec-WebSocket-Version', '13'];
  const { head, framing } = buildH1RequestHead('GET', '/ws', raw, 'h', false, undefined, 'websocket');
  assert.equal(head, 'GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k==\r\nSec-WebSocket-Version: 13\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
  assert.equal(framing, BodyFraming.None);
  assert.doesNotMatch(buildH1RequestHead('GET', '/ws', raw, 'h', false).head, /upgrade/i, 'without `upgrade` the fields are dropped as before');
});

test("an edit (the JWT layer's) removes fields by name whatever their case and appends its own, with or without extra headers", () => {
  const edit = { removed: new Set(['authorization', 'x-group']), added: ['x-group', 'admins'] };
  const raw = ['Host', 'svc', 'Authorization', 'Bearer t', 'X-Group', 'forged', 'traceparent', '00-a-b-01'];
  const { head } = buildH1RequestHead('GET', '/', raw, 'svc', false, undefined, undefined, edit);
  assert.equal(head, 'GET / HTTP/1.1\r\nHost: svc\r\ntraceparent: 00-a-b-01\r\nx-group: admins\r\n\r\n');
  const traced = buildH1RequestHead('GET', '/', raw, 'svc', false, ['traceparent', '00-c-d-01'], undefined, edit);
  assert.equal(traced.head, 'GET / HTTP/1.1\r\nHost: svc\r\ntraceparent: 00-c-d-01\r\nx-group: admins\r\n\r\n');
});
