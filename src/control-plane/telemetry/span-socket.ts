// The control plane's span receiver (POST /v1/traces) on a Unix socket beside the xDS socket,
// for sidecars in other network namespaces, which cannot reach the REST API's TCP address.
//
// Trust: the socket has mode 0600 and lives beside the xDS socket, in a directory of the
// control plane's choosing, so only processes running as the control plane's user (or root)
// can open it; those can already read the data directory, CA key included. That is the same
// boundary the xDS socket relies on, so no client certificate or token is asked for here. The
// socket serves nothing but the span receiver: no resource, token or telemetry read route.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenUnix } from '../../common/listen-unix.js';

const RECEIVER_PATH = '/v1/traces';

/** Serves `telemetry`'s /v1/traces on the Unix socket `socketPath`; resolves to a close function that also removes the file. */
export async function serveSpanSocket(socketPath: string, telemetry: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<() => Promise<void>> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://trellis.invalid').pathname.replace(/\/+$/, '');
    if (path === RECEIVER_PATH && telemetry(req, res)) return;
    const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: `this socket serves only POST ${RECEIVER_PATH} (the span receiver), not ${path}` } });
    res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 5000;
  await listenUnix(server, socketPath, 'the span receiver');
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}
