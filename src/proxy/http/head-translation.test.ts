// Head translation between HTTP/1.1 and HTTP/2, both ways, with the cases a translator must
// refuse: a connection-specific field from an HTTP/2 peer, an HTTP/1.1 request with both
// Content-Length and Transfer-Encoding.
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { test } from 'node:test';
import { h1FieldsFromH2, h1FieldsFromH2Response, h2FieldsFromH1, h2RequestFromH1 } from './head-translation.js';

test('HTTP/1.1 → HTTP/2 request: pseudo-headers from the request line and Host, hop-by-hop fields dropped, te: trailers kept', () => {
  const raw = [
    'Host', 'api.example:8080',
    'Connection', 'keep-alive, X-Hop',
    'X-Hop', 'gone',
    'Keep-Alive', 'timeout=5',
    'Proxy-Connection', 'keep-alive',
    'Upgrade', 'h2c',
    'HTTP2-Settings', 'AAMAAABkAAQAoAAAAAIAAAAA',
    'Expect', '100-continue',
    'TE', 'trailers, deflate',
    'Content-Length', '5',
    'X-Multi', 'a',
    'x-multi', 'b',
    'Content-Type', 'text/plain',
  ]; // prettier-ignore
  const r = h2RequestFromH1('POST', '/upload?x=1', raw, 'api.example:8080');
  assert.deepEqual(r, {
    ok: true,
    value: {
      ':method': 'POST',
      ':path': '/upload?x=1',
      ':scheme': 'http',
      ':authority': 'api.example:8080',
      te: 'trailers',
      'content-length': '5',
      'x-multi': ['a', 'b'],
      'content-type': 'text/plain',
    },
  });
});

test("HTTP/1.1 → HTTP/2 request: te without trailers is dropped; the proxy's own headers replace the client's", () => {
  const r = h2RequestFromH1('GET', '/', ['te', 'gzip', 'traceparent', '00-client', 'x-a', '1'], 'svc', ['traceparent', '00-proxy']);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { ':method': 'GET', ':path': '/', ':scheme': 'http', ':authority': 'svc', 'x-a': '1', traceparent: '00-proxy' });
});

test('HTTP/1.1 → HTTP/2 request: Content-Length with Transfer-Encoding is refused, not guessed', () => {
  const r = h2RequestFromH1('POST', '/', ['Content-Length', '10', 'Transfer-Encoding', 'chunked'], 'svc');
  assert.deepEqual(r, { ok: false, error: 'both content-length and transfer-encoding are present' });
});

test('HTTP/2 → HTTP/1.1 request: fields without pseudo-headers and Host, cookies joined, a body without length goes chunked', () => {
  const split = { ':method': 'POST', ':path': '/p', ':authority': 'svc:80', ':scheme': 'http', host: 'other', cookie: ['a=1', 'b=2'], 'x-list': ['1', '2'], te: 'trailers' };
  const r = h1FieldsFromH2(split as unknown as http2.IncomingHttpHeaders, true);
  assert.deepEqual(r, { ok: true, value: ['cookie', 'a=1; b=2', 'x-list', '1', 'x-list', '2', 'te', 'trailers', 'transfer-encoding', 'chunked'] });
  const sized = h1FieldsFromH2({ ':method': 'POST', 'content-length': '3' }, true);
  assert.deepEqual(sized, { ok: true, value: ['content-length', '3'] }, 'a known length is kept');
  assert.deepEqual(h1FieldsFromH2({ ':method': 'GET' }, false), { ok: true, value: [] }, 'no body, no framing');
});

test('HTTP/2 → HTTP/1.1 request: a connection-specific field, or te other than trailers, makes it malformed', () => {
  for (const [name, value] of [
    ['connection', 'close'],
    ['keep-alive', 'timeout=5'],
    ['transfer-encoding', 'chunked'],
    ['upgrade', 'websocket'],
    ['proxy-connection', 'keep-alive'],
  ]) {
    const r = h1FieldsFromH2({ ':method': 'GET', [name!]: value }, false);
    assert.deepEqual(r, { ok: false, error: `connection-specific header field ${name} in an HTTP/2 request` });
  }
  assert.deepEqual(h1FieldsFromH2({ ':method': 'GET', te: 'gzip' }, false), { ok: false, error: 'te: gzip in an HTTP/2 request (only "trailers" is allowed)' });
});

test('HTTP/2 → HTTP/1.1 response: pseudo-headers dropped, repeated fields kept apart, Content-Length kept', () => {
  const head = { ':status': 200, 'content-length': '10', 'set-cookie': ['a=1', 'b=2'], 'x-a': 'v' };
  const fields = h1FieldsFromH2Response(head as unknown as http2.IncomingHttpHeaders);
  assert.deepEqual(fields, ['content-length', '10', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-a', 'v']);
  assert.deepEqual(h1FieldsFromH2Response({ 'grpc-status': '0', 'x-checksum': 'abc' }), ['grpc-status', '0', 'x-checksum', 'abc'], 'trailers');
});

test('HTTP/1.1 → HTTP/2 response: :status, lower-case names, connection-specific fields and those Connection lists dropped', () => {
  const out = h2FieldsFromH1(201, [
    'Content-Type',
    'text/plain',
    'Connection',
    'close, X-Private',
    'X-Private',
    'p',
    'Keep-Alive',
    'timeout=5',
    'Transfer-Encoding',
    'chunked',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
  ]);
  assert.deepEqual(out, { ':status': 201, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  assert.deepEqual(h2FieldsFromH1(undefined, ['X-Checksum', 'abc']), { 'x-checksum': 'abc' }, 'trailers have no :status');
});

test("HTTP/1.1 to HTTP/2: an edit (the JWT layer's) removes the token and client claim headers and adds the verified claims", () => {
  const raw = ['Host', 'svc', 'Authorization', 'Bearer t', 'X-Group', 'forged', 'accept', '*/*'];
  const r = h2RequestFromH1('GET', '/', raw, 'svc', undefined, { removed: new Set(['authorization', 'x-group']), added: ['x-group', 'admins'] });
  assert.ok(r.ok);
  assert.deepEqual(r.value, { ':method': 'GET', ':path': '/', ':scheme': 'http', ':authority': 'svc', accept: '*/*', 'x-group': 'admins' });
});
