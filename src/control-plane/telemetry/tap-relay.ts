// Relays live tap from the proxies of one service to one client as server-sent events: opens
// each proxy's admin /tap with the same filters and passes events on, naming the proxy.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyStatus } from '../../api/proxy-status.js';
import { adminRequestOptions } from './admin-request.js';
import { qualify } from './golden-views.js';

const FILTERS = ['path', 'method', 'status'];

/** Answers `res` with the tap stream of `service`; 404 when no connected proxy serves it. */
export function relayTap(service: string, url: URL, proxies: readonly ProxyStatus[], req: IncomingMessage, res: ServerResponse): void {
  const svc = qualify(service);
  for (const k of url.searchParams.keys()) {
    if (!FILTERS.includes(k)) return json(res, 400, { error: { code: 'BAD_REQUEST', message: `unknown tap filter ${k}; known: ${FILTERS.join(', ')}` } });
  }
  const q = new URLSearchParams({ service: svc });
  for (const k of FILTERS) {
    const v = url.searchParams.get(k);
    if (v !== null) q.set(k, v);
  }
  const targets = proxies.flatMap((p) => {
    const options = `${p.service}.${p.namespace}` === svc ? adminRequestOptions(p, `/tap?${q}`) : undefined;
    return options === undefined ? [] : [{ p, options }];
  });
  if (targets.length === 0) return json(res, 404, { error: { code: 'NOT_FOUND', message: `no connected proxy serves ${svc}; see trellis get proxies` } });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(`: tapping ${svc} on ${targets.length} prox${targets.length === 1 ? 'y' : 'ies'}\n\n`);
  const upstreams: http.ClientRequest[] = [];
  for (const { p, options } of targets) {
    const up = http.get(options, (r) => {
      if (r.statusCode !== 200) {
        res.write(`event: problem\ndata: ${JSON.stringify({ proxy: p.id, message: `proxy tap answered HTTP ${r.statusCode}` })}\n\n`);
        r.resume();
        return;
      }
      let buffered = '';
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          for (const line of block.split('\n')) {
            if (!line.startsWith('data: ')) continue;
            try {
              res.write(`data: ${JSON.stringify({ proxy: p.id, ...(JSON.parse(line.slice(6)) as object) })}\n\n`);
            } catch {
              // a malformed event from a proxy is skipped
            }
          }
        }
      });
    });
    up.on('error', (e) => res.write(`event: problem\ndata: ${JSON.stringify({ proxy: p.id, message: e.message })}\n\n`));
    upstreams.push(up);
  }
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(heartbeat);
    for (const up of upstreams) up.destroy();
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}
