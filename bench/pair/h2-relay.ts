// The smallest HTTP/2 proxy node:http2 allows, one process per side of a pair: each downstream
// stream becomes one upstream stream on one long-lived session, headers copied, bodies written
// through, trailers relayed (gRPC). No routing, no policy, no metrics: what node:http2 itself costs a
// stream through a proxy, the floor under the Trellis pair's h2 and gRPC figures.
// Run as `node dist/bench/pair/h2-relay.js LISTEN_PORT UPSTREAM_URL [CA CERT_PEM]`: with CA and
// CERT_PEM (certificate and key), an https:// upstream is dialled with that client certificate;
// a port given `--tls` after them serves TLS (ALPN h2) and requires a client certificate.
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM } = http2.constants;

/** Connection-specific fields (RFC 9113 8.2.2) never copied, and pseudo-headers node sets itself. */
const SKIP = new Set([':scheme', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

function main(): void {
  const [port, upstream, ca, certPem, mode] = process.argv.slice(2);
  if (port === undefined || upstream === undefined) throw new Error('usage: h2-relay.js LISTEN_PORT UPSTREAM_URL [CA CERT_PEM [--tls]]');
  const tls = ca !== undefined && certPem !== undefined ? { ca: readFileSync(ca), cert: readFileSync(certPem), key: readFileSync(certPem) } : undefined;
  const server =
    tls !== undefined && mode === '--tls'
      ? http2.createSecureServer({ ...tls, requestCert: true, rejectUnauthorized: true, settings: { maxConcurrentStreams: 1000 } })
      : http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  let session: http2.ClientHttp2Session | undefined;
  const upstreamSession = () => {
    if (session !== undefined && !session.closed && !session.destroyed) return session;
    const s = http2.connect(upstream, { peerMaxConcurrentStreams: 1000, ...(tls !== undefined && mode !== '--tls' ? tls : {}) });
    s.on('error', () => {});
    s.on('close', () => {
      if (session === s) session = undefined;
    });
    return (session = s);
  };
  const scheme = upstream.startsWith('https:') ? 'https' : 'http';
  server.on('stream', (down, headers, flags: number) => relay(down, headers, (flags & NGHTTP2_FLAG_END_STREAM) !== 0, upstreamSession(), scheme));
  server.on('sessionError', () => {});
  server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
  process.on('SIGTERM', () => process.exit(0));
}

function relay(down: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, endStream: boolean, session: http2.ClientHttp2Session, scheme: string): void {
  const out: http2.OutgoingHttpHeaders = { ':scheme': scheme };
  for (const name in headers) if (!SKIP.has(name)) out[name] = headers[name];
  const up = session.request(out, { endStream });
  let trailers: http2.OutgoingHttpHeaders = {};
  down.on('error', () => up.close(NGHTTP2_CANCEL));
  up.on('error', () => {
    if (!down.destroyed) down.close(NGHTTP2_INTERNAL_ERROR);
  });
  if (!endStream) relayBody(down, up);
  up.on('trailers', (t: http2.IncomingHttpHeaders) => {
    trailers = t;
  });
  up.on('response', (h, flags: number) => {
    if (down.destroyed) return;
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) return down.respond(h, { endStream: true });
    down.respond(h, { waitForTrailers: true });
    down.once('wantTrailers', () => down.sendTrailers(trailers));
    relayBody(up, down);
  });
}

/** Body chunks from `from` written to `to` as they come (cheaper than Readable.pipe), with backpressure; `to` ends with `from`. */
function relayBody(from: http2.Http2Stream, to: http2.Http2Stream): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.destroyed && !to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.once('end', () => {
    if (!to.destroyed) to.end();
  });
}

main();
