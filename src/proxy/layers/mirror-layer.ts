// Layer: request mirroring (shadow traffic). For each mirror of the route, a copy of the
// request goes to an endpoint of the mirror cluster with `-shadow` appended to its host; the
// copy's answer is read and thrown away, and its failure never touches the caller's request.
// Only HTTP/1.x requests without a body are copied (bodies are streamed, not kept), and at most
// MAX_MIRRORS_IN_FLIGHT copies are outstanding (more are dropped, not queued).
import { http } from '../../common/node-http.js';
import type { HttpLayer } from '../http/layer.js';
import type { H1Downstream } from '../http/h1-downstream.js';
import type { RoutedRequest } from '../http/request-context.js';
import { modifyFlat } from '../http/header-mods.js';
import { REWRITTEN_HEADERS } from '../http/upstream-headers.js';
import type { ClusterState } from '../data-plane-snapshot.js';

export const MAX_MIRRORS_IN_FLIGHT = 256;
const MIRROR_TIMEOUT_MS = 10_000;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host', 'content-length']);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let inFlight = 0;
/** Copies sent and copies dropped over the bound (tests and /stats read them). */
export const mirrorStats = { sent: 0, dropped: 0, failed: 0 };

function done(): void {
  inFlight--;
}

function sendCopy(ctx: RoutedRequest, cluster: ClusterState): void {
  const endpoint = cluster.balancer.pick();
  if (endpoint === undefined) return;
  if (inFlight >= MAX_MIRRORS_IN_FLIGHT) {
    mirrorStats.dropped++;
    return;
  }
  const raw = (ctx.downstream as H1Downstream).rawHeaders;
  const mods = ctx.route.rule.requestHeaders;
  const source = mods === undefined ? raw : modifyFlat(raw, mods);
  const headers: [string, string][] = [['host', `${ctx.authority}-shadow`]];
  // As on the forwarded request: the proxy's own source and trace headers replace the app's.
  const extra = ctx.upstreamHeaders;
  for (let i = 0; i < source.length; i += 2) {
    const lower = source[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && (extra === undefined || !REWRITTEN_HEADERS.has(lower))) headers.push([source[i]!, source[i + 1]!]);
  }
  if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) headers.push([extra[i]!, extra[i + 1]!]);
  inFlight++;
  mirrorStats.sent++;
  let finished = false;
  const finish = (failed: boolean): void => {
    if (finished) return;
    finished = true;
    if (failed) mirrorStats.failed++;
    done();
  };
  // An endpoint behind mTLS is dialled by its own dial (mesh certificate, expected identity), one
  // connection per copy; node:http uses `createConnection` only when no agent is given.
  const transport = endpoint.tls ? { createConnection: () => endpoint.dial('http/1.1') } : { agent };
  const req = http.request(
    { host: endpoint.address, port: endpoint.port, method: ctx.method, path: ctx.path, headers: headers.flat(), ...transport, timeout: MIRROR_TIMEOUT_MS },
    (res) => {
      res.resume();
      res.on('end', () => finish(false));
      res.on('error', () => finish(true));
    },
  );
  req.on('timeout', () => req.destroy());
  req.on('error', () => finish(true));
  req.on('close', () => finish(true));
  req.end();
}

export const mirrorLayer: HttpLayer<RoutedRequest> = {
  name: 'mirror',
  request(ctx, next) {
    const mirrors = ctx.route.mirrors;
    if (mirrors.length > 0 && ctx.downstream.protocol === 'http/1.1' && !ctx.downstream.hasBody) {
      for (const m of mirrors) if (m.perMillion >= 1_000_000 || Math.random() * 1_000_000 < m.perMillion) sendCopy(ctx, m.target);
    }
    next(ctx);
  },
};
