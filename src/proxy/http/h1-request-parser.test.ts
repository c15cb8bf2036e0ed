import assert from 'node:assert/strict';
import test from 'node:test';
import { CHUNKED, H1RequestParser, type H1RequestHead, type H1RequestSink } from './h1-request-parser.js';

/** Records what the parser reports. */
class Recorder implements H1RequestSink {
  heads: H1RequestHead[] = [];
  body: Buffer[] = [];
  completed = 0;
  onRequestHead(head: H1RequestHead): void {
    this.heads.push(head);
  }
  onRequestBody(chunk: Buffer): void {
    this.body.push(Buffer.from(chunk));
  }
  onRequestComplete(): void {
    this.completed++;
  }
  get text(): string {
    return Buffer.concat(this.body).toString();
  }
}

function parse(input: string | Buffer, max = 16 * 1024): { sink: Recorder; parser: H1RequestParser; used: number } {
  const sink = new Recorder();
  const parser = new H1RequestParser(sink, max);
  const used = parser.execute(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'), 0);
  return { sink, parser, used };
}

/** Feeds `input` split at every byte; the sink sees the same as from one piece. */
function parseByteByByte(input: string): Recorder {
  const sink = new Recorder();
  const parser = new H1RequestParser(sink, 16 * 1024);
  const bytes = Buffer.from(input, 'latin1');
  for (let i = 0; i < bytes.length; i++) assert.equal(parser.execute(bytes.subarray(i, i + 1), 0), 1, `byte ${i}`);
  return sink;
}

test('a GET: method, target, version, fields as sent, keep-alive, no body', () => {
  const input = 'GET /a?b=c HTTP/1.1\r\nHost: svc:8080\r\nX-Trace:  v1 \r\nAccept: */*\r\n\r\n';
  const { sink, parser, used } = parse(input);
  assert.equal(used, input.length);
  const head = sink.heads[0]!;
  assert.equal(head.method, 'GET');
  assert.equal(head.target, '/a?b=c');
  assert.equal(head.minor, 1);
  assert.deepEqual(head.rawHeaders, ['Host', 'svc:8080', 'X-Trace', 'v1', 'Accept', '*/*']);
  assert.equal(head.keepAlive, true);
  assert.equal(head.bodyLength, 0);
  assert.equal(sink.completed, 1);
  assert.equal(parser.done, true);
});

test('a POST with Content-Length, fed one byte at a time, gives the same head and body', () => {
  const sink = parseByteByByte('POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello');
  assert.equal(sink.heads.length, 1);
  assert.equal(sink.heads[0]!.bodyLength, 5);
  assert.equal(sink.text, 'hello');
  assert.equal(sink.completed, 1);
});

test('a chunked body is decoded at every split point, extensions and trailers included', () => {
  const input = 'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n';
  for (let split = 1; split < input.length; split++) {
    const sink = new Recorder();
    const parser = new H1RequestParser(sink, 16 * 1024);
    const bytes = Buffer.from(input, 'latin1');
    const a = parser.execute(bytes.subarray(0, split), 0);
    const b = parser.execute(bytes.subarray(split), 0);
    assert.equal(a + b, bytes.length, `split at ${split}`);
    assert.equal(sink.heads[0]!.bodyLength, CHUNKED);
    assert.equal(sink.text, 'hello world', `split at ${split}`);
    assert.equal(sink.completed, 1, `split at ${split}`);
  }
});

test('pipelined requests: the parser stops at the end of the first and reads the second after next()', () => {
  const one = 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\n';
  const two = Buffer.from(one + one.replace('/1', '/2'), 'latin1');
  const sink = new Recorder();
  const parser = new H1RequestParser(sink, 16 * 1024);
  const used = parser.execute(two, 0);
  assert.equal(used, one.length);
  assert.equal(sink.heads.length, 1);
  assert.equal(parser.execute(two, used), 0, 'nothing is read until next()');
  parser.next();
  assert.equal(parser.execute(two, used), one.length);
  assert.deepEqual(
    sink.heads.map((h) => h.target),
    ['/1', '/2'],
  );
});

test('HTTP/1.0: closes unless it asks for keep-alive; HTTP/1.1 closes when it asks to', () => {
  assert.equal(parse('GET / HTTP/1.0\r\n\r\n').sink.heads[0]!.keepAlive, false);
  assert.equal(parse('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').sink.heads[0]!.keepAlive, true);
  assert.equal(parse('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n').sink.heads[0]!.keepAlive, false);
});

test('Expect: 100-continue is noted for a request with a body; blank lines before a request are skipped', () => {
  assert.equal(parse('PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n').sink.heads[0]!.expectContinue, true);
  assert.equal(parse('GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n').sink.heads[0]!.expectContinue, false);
  assert.equal(parse('\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n').sink.heads[0]!.target, '/x');
});

test('equal Content-Length values are one length', () => {
  assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4, 4\r\n\r\nabcd').sink.text, 'abcd');
  assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd').sink.text, 'abcd');
});

test('heads read differently by other servers, or not HTTP/1.x at all, are 400 with the reason; an oversized head is 431', () => {
  const cases: [string, string, RegExp][] = [
    ['HTTP/0.9 (judged before the head ends)', 'GET /old\r\n', /no HTTP version/],
    ['bare LF in a field', 'GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n', /bare CR or LF/],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n', /bare CR or LF/],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: h\x00\r\n\r\n', /control character/],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n', /line folding/],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', /field name/],
    ['Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n', /both Content-Length and Transfer-Encoding/],
    ['differing Content-Lengths', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', /disagree/],
    ['a Content-Length list that disagrees', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n', /Content-Length/],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +4\r\n\r\n', /Content-Length/],
    ['a coding other than chunked', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /Transfer-Encoding/],
    ['chunked twice', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', /Transfer-Encoding/],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', /HTTP\/1\.0/],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\nX: y\r\n\r\n', /without a Host/],
    ['another HTTP version', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', /unsupported HTTP version/],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\nHost: h\r\n\r\n', /method/],
    ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n', /request line/],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', /CONNECT is not served/],
    ['an Expect other than 100-continue', 'GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n', /Expect/],
    ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size/],
    ['chunk data without its CRLF', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n', /CRLF/],
  ];
  for (const [what, input, reason] of cases) {
    const { sink, parser, used } = parse(input);
    assert.equal(used, -1, what);
    assert.equal(parser.error?.status, 400, what);
    assert.match(parser.error.message, reason, what);
    if (!/chunk/.test(what)) assert.equal(sink.heads.length, 0, `${what}: nothing reached the sink`);
  }
  const big = parse(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(2000)}\r\n\r\n`, 1024);
  assert.equal(big.used, -1);
  assert.equal(big.parser.error?.status, 431);
  const endless = parse(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(2000)}`, 1024);
  assert.equal(endless.parser.error?.status, 431, 'a head past the limit is refused before it ends');
});

test('an Upgrade request: the protocol as sent, only with Connection: upgrade on HTTP/1.1 without a body', () => {
  const upgrade = (fields: string, version = '1.1') => parse(`GET /ws HTTP/${version}\r\nHost: h\r\n${fields}\r\n`).sink.heads[0]!.upgrade;
  assert.equal(upgrade('Connection: Upgrade\r\nUpgrade: websocket\r\n'), 'websocket');
  assert.equal(upgrade('Upgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\n'), 'WebSocket', 'any order, case kept, upgrade among other tokens');
  assert.equal(upgrade('Connection: upgrade\r\nUpgrade: foo/1, bar\r\n'), 'foo/1, bar');
  assert.equal(upgrade('Connection: upgrade\r\nUpgrade: a\r\nUpgrade: b\r\n'), 'a, b', 'repeated fields join as a list');
  assert.equal(upgrade('Upgrade: websocket\r\n'), undefined, 'no Connection: upgrade, no upgrade');
  assert.equal(upgrade('Connection: upgrade\r\n'), undefined, 'no Upgrade field');
  assert.equal(upgrade('Connection: upgrade\r\nUpgrade: websocket\r\n', '1.0'), undefined, 'HTTP/1.0 has no upgrade');
  assert.equal(upgrade('Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n'), undefined, 'one with a body is served as a plain request');
  assert.equal(upgrade('Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n'), undefined, 'h2c is served as a plain request');
  assert.equal(upgrade(''), undefined);
});

test('an Upgrade request ends with its head: what follows on the connection is not parsed as HTTP', () => {
  const head = 'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n';
  const { sink, parser, used } = parse(head + '\x81\x02hi');
  assert.equal(sink.completed, 1);
  assert.equal(parser.done, true);
  assert.equal(used, head.length, 'the frame bytes are left for the connection to hand over');
});
