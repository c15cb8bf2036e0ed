// In-process servers and clients for data-plane tests, all on 127.0.0.1 with port 0 and all
// closed by the test's `after` hook even when the test fails.
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type { TestContext } from 'node:test';
import type { ClusterConfig, RouteRule } from '../config/runtime-config.js';
import { DataPlane } from '../data-plane.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { cluster, endpoint, httpListener, routeTable, rule, runtimeConfig, virtualHost } from './config-builder.js';

export interface EchoServer {
  readonly port: number;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests served so far. */
  requests: number;
  readonly server: http.Server;
}

/** What the echo servers answer: the request as they saw it. */
export interface Echo {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP/1.1 server answering JSON Echo, or `handler` when given. */
export async function startEchoServer(t: TestContext, name = 'echo', handler?: http.RequestListener): Promise<EchoServer> {
  const state = { connections: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    if (handler) return handler(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo: Echo = { name, method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name });
      res.end(JSON.stringify(echo));
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    server,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
  };
}

/** An h2c server answering JSON Echo on every stream, or `handler` when given. */
export async function startH2EchoServer(
  t: TestContext,
  name = 'h2echo',
  handler?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
): Promise<{ port: number; sessions: () => number }> {
  let sessions = 0;
  const server = http2.createServer();
  server.on('session', () => sessions++);
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (handler) return handler(stream, headers);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const echo: Echo = { name, method: String(headers[':method']), path: String(headers[':path']), headers: headers, body: Buffer.concat(chunks).toString() };
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify(echo));
    });
  });
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, sessions: () => sessions };
}

/**
 * A DataPlane with one outbound listener `out` whose every request takes route rule `r` to
 * cluster `app` (the upstream ports, cluster settings `c`): its port and metrics.
 */
export async function startRoutedPlane(
  t: TestContext,
  upstreamPorts: readonly number[],
  r: Partial<RouteRule>,
  c: Partial<ClusterConfig> = {},
): Promise<{ port: number; metrics: ProxyMetrics }> {
  const { plane, metrics } = startDataPlane(t);
  const config = runtimeConfig({
    listeners: [httpListener('out', 0)],
    routes: [routeTable('routes', [virtualHost('all', ['*'], [rule('default', 'app', r)])])],
    clusters: [
      cluster(
        'app',
        upstreamPorts.map((p) => endpoint(p)),
        c,
      ),
    ],
  });
  const result = await plane.apply(config);
  if (!result.ok) throw new Error(`the test config was refused: ${JSON.stringify(result.failed)}`);
  return { port: plane.port('out')!, metrics };
}

/** A DataPlane with its own metrics, closed after the test. */
export function startDataPlane(t: TestContext, drainGraceMs = 200): { plane: DataPlane; metrics: ProxyMetrics } {
  const metrics = new ProxyMetrics();
  const plane = new DataPlane({ metrics, drainGraceMs });
  t.after(() => plane.close(200));
  return { plane, metrics };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request on a fresh connection (or `agent`), bounded by `timeoutMs`. */
export function request(
  port: number,
  opts: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to port ${port} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** An h2c client session to 127.0.0.1:port, closed after the test. */
export function h2Client(t: TestContext, port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  t.after(() => session.destroy());
  return session;
}

/** One h2 request on `session`: status, headers, body and trailers. */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string; trailers: http2.IncomingHttpHeaders | undefined }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (tr: http2.IncomingHttpHeaders) => (trailers = tr));
    stream.on('data', (c: Buffer) => chunks.push(c));
    // node ends the readable side of a reset stream too: the outcome is known only at 'close'.
    stream.on('close', () => {
      if (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR)
        resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body: Buffer.concat(chunks).toString(), trailers });
      else reject(new Error(`stream reset with code ${stream.rstCode}`));
    });
    stream.on('error', () => {});
    stream.setTimeout(5000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    if (body !== undefined) stream.end(body);
  });
}
