// The upstream response parser, fed whole and byte by byte: framing, hop-by-hop removal,
// interim responses, trailers and malformed input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H1ResponseParser, ParseStatus, type H1ResponseSink } from './h1-response-parser.js';

interface Parsed {
  status?: number;
  reason?: string;
  headers?: string[];
  body: string;
  complete: boolean;
  trailers?: string[];
  continues: number;
}

function sink(out: Parsed): H1ResponseSink {
  return {
    onResponseHead: (status, reason, headers) => Object.assign(out, { status, reason, headers }),
    onResponseBody: (chunk) => void (out.body += chunk.toString('latin1')),
    onResponseComplete: (last, trailers) => {
      if (last) out.body += last.toString('latin1');
      out.complete = true;
      out.trailers = trailers;
    },
    onResponseContinue: () => void out.continues++,
  };
}

/** Parses `wire` in pieces of `step` bytes (0 = all at once). */
function parse(wire: string, opts: { head?: boolean; step?: number } = {}): { out: Parsed; status: ParseStatus; parser: H1ResponseParser } {
  const parser = new H1ResponseParser();
  const out: Parsed = { body: '', complete: false, continues: 0 };
  parser.start(sink(out), opts.head ?? false);
  const bytes = Buffer.from(wire, 'latin1');
  const step = opts.step || bytes.length;
  let status = ParseStatus.More;
  for (let i = 0; i < bytes.length && status === ParseStatus.More; i += step) status = parser.execute(bytes.subarray(i, i + step));
  return { out, status, parser };
}

const both = (wire: string, check: (r: ReturnType<typeof parse>) => void) => {
  check(parse(wire));
  check(parse(wire, { step: 1 }));
  check(parse(wire, { step: 7 }));
};

test('a content-length response, whole or byte by byte', () => {
  both('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello', ({ out, status, parser }) => {
    assert.equal(status, ParseStatus.Complete);
    assert.equal(out.status, 200);
    assert.equal(out.reason, 'OK');
    assert.deepEqual(out.headers, ['Content-Type', 'text/plain', 'Content-Length', '5']);
    assert.equal(out.body, 'hello');
    assert.ok(parser.keepAlive);
  });
});

test('a chunked response is decoded, with extensions and trailers', () => {
  both('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n', ({ out, status, parser }) => {
    assert.equal(status, ParseStatus.Complete);
    assert.deepEqual(out.headers, []);
    assert.equal(out.body, 'hello world');
    assert.deepEqual(out.trailers, ['X-Sum', '1']);
    assert.ok(parser.keepAlive);
  });
});

test('hop-by-hop response headers are removed, Connection-listed ones too', () => {
  const { out, parser } = parse(
    'HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nUpgrade: h2c\r\nProxy-Connection: x\r\nX-Keep: 2\r\nContent-Length: 0\r\n\r\n',
  );
  assert.deepEqual(out.headers, ['X-Keep', '2', 'Content-Length', '0']);
  assert.equal(parser.keepAlive, false, 'Connection: close');
});

test('HEAD, 204 and 304 responses have no body whatever their headers say', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', { head: true }).status, ParseStatus.Complete);
  assert.equal(parse('HTTP/1.1 204 No Content\r\n\r\n').status, ParseStatus.Complete);
  assert.equal(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').status, ParseStatus.Complete);
});

test('a response without framing runs until the connection closes and is not reused', () => {
  const { out, status, parser } = parse('HTTP/1.1 200 OK\r\n\r\nsome bytes');
  assert.equal(status, ParseStatus.More);
  assert.equal(out.body, 'some bytes');
  assert.equal(parser.finishAtEof(), ParseStatus.Complete);
  assert.ok(out.complete);
  assert.equal(parser.keepAlive, false);
});

test('a body cut short by the connection closing is an error', () => {
  const { parser } = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  assert.equal(parser.finishAtEof(), ParseStatus.Invalid);
  assert.match(parser.error, /closed before the response was complete/);
});

test('100 Continue is reported and the final response follows', () => {
  both('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok', ({ out, status }) => {
    assert.equal(status, ParseStatus.Complete);
    assert.equal(out.continues, 1);
    assert.equal(out.status, 201);
    assert.equal(out.body, 'ok');
  });
});

test('HTTP/1.0 responses are not kept alive', () => {
  assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').parser.keepAlive, false);
});

test('Transfer-Encoding wins over Content-Length and the connection is not reused', () => {
  const { out, parser } = parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
  assert.equal(out.body, 'ok');
  assert.deepEqual(out.headers, []);
  assert.equal(parser.keepAlive, false);
});

test('bytes after a complete response make the connection unusable', () => {
  const { status, parser } = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
  assert.equal(status, ParseStatus.Complete);
  assert.equal(parser.keepAlive, false);
});

test('malformed responses are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['FTP/1.1 200 OK\r\n\r\n', /bad status line/],
    ['HTTP/1.1 2x0 OK\r\n\r\n', /bad status code/],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', /bad header line/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /bad content-length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /bad content-length/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /bad chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX', /chunk data not followed by CRLF/],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /101 Switching Protocols/],
  ];
  for (const [wire, reason] of cases) {
    const { status, parser } = parse(wire);
    assert.equal(status, ParseStatus.Invalid, wire);
    assert.match(parser.error, reason, wire);
  }
});

test('data while no request is outstanding is refused', () => {
  const parser = new H1ResponseParser();
  assert.equal(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), ParseStatus.Invalid);
});

test('the parser is reusable for the next response on the connection', () => {
  const parser = new H1ResponseParser();
  for (const body of ['one', 'two']) {
    const out: Parsed = { body: '', complete: false, continues: 0 };
    parser.start(sink(out), false);
    assert.equal(parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n${body}`)), ParseStatus.Complete);
    assert.equal(out.body, body);
  }
});

test('101 to an upgrade request: the head without hop-by-hop fields, the Upgrade value, and the bytes after it', () => {
  for (const step of [0, 1]) {
    const parser = new H1ResponseParser();
    const out: Parsed = { body: '', complete: false, continues: 0 };
    parser.start(sink(out), false, true);
    const wire = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n\x81\x02hi', 'latin1');
    let status = ParseStatus.More;
    const piece = step || wire.length;
    let i = 0;
    for (; i < wire.length && status === ParseStatus.More; i += piece) status = parser.execute(wire.subarray(i, i + piece));
    assert.equal(status, ParseStatus.Upgraded, `step ${step}`);
    const up = parser.upgraded!;
    assert.deepEqual([up.reason, up.headers, up.protocol], ['Switching Protocols', ['Sec-WebSocket-Accept', 'abc='], 'websocket']);
    // Whole: the frame came with the head; byte by byte: it is still on the connection.
    assert.equal(up.rest?.toString('latin1'), step === 0 ? '\x81\x02hi' : undefined);
    assert.equal(out.status, undefined, 'the sink got no ordinary head');
    assert.equal(parser.keepAlive, false);
  }
});

test('101 is a protocol error to a request that asked for no upgrade, or without an Upgrade field', () => {
  const plain = parse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n');
  assert.equal(plain.status, ParseStatus.Invalid);
  assert.match(plain.parser.error, /asked for no upgrade/);
  const parser = new H1ResponseParser();
  parser.start(sink({ body: '', complete: false, continues: 0 }), false, true);
  assert.equal(parser.execute(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n')), ParseStatus.Invalid);
  assert.match(parser.error, /without an Upgrade field/);
});

test('a non-101 answer to an upgrade request is an ordinary response', () => {
  const parser = new H1ResponseParser();
  const out: Parsed = { body: '', complete: false, continues: 0 };
  parser.start(sink(out), false, true);
  assert.equal(parser.execute(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nno')), ParseStatus.Complete);
  assert.deepEqual([out.status, out.body, out.complete], [400, 'no', true]);
  assert.equal(parser.upgraded, undefined);
});
