// Relays live tap from the proxies of one service to one client as server-sent events: opens
// each proxy's admin /tap with the same filters and passes events on, naming the proxy.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyStatus } from '../../api/proxy-status.js';
import { adminRequestOptions } from './admin-request.js';
import { qualify } from './golden-views.js';
import { BoundedEventStream } from '../../common/bounded-event-stream.js';

const FILTERS = ['path', 'method', 'status'];
/** A proxy's tap events are a few hundred characters; one longer than this is not a tap event. */
const MAX_EVENT_CHARS = 64 * 1024;

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
    const options = `${p.service}.${p.namespace}` === svc ? adminRequestOptions(p, `/tap?${q.toString()}`) : undefined;
    return options === undefined ? [] : [{ p, options }];
  });
  if (targets.length === 0) return json(res, 404, { error: { code: 'NOT_FOUND', message: `no connected proxy serves ${svc}; see trellis get proxies` } });
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write(`: tapping ${svc} on ${targets.length} prox${targets.length === 1 ? 'y' : 'ies'}\n\n`);
  // Bounded: a client that does not read loses events (and is told how many), never the control plane's memory.
  const stream = new BoundedEventStream(res);
  const problem = (proxy: string, message: string) => stream.send(() => JSON.stringify({ proxy, message }), 'problem');
  const upstreams: http.ClientRequest[] = [];
  for (const { p, options } of targets) {
    const up = http.get(options, (r) => {
      if (r.statusCode !== 200) {
        problem(p.id, `proxy tap answered HTTP ${r.statusCode}`);
        r.resume();
        return;
      }
      let buffered = '';
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          relayBlock(stream, p.id, buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
        }
        if (buffered.length > MAX_EVENT_CHARS) {
          problem(p.id, `proxy tap sent an event over ${MAX_EVENT_CHARS} characters; stopped tapping this proxy`);
          up.destroy();
        }
      });
    });
    up.on('error', (e) => problem(p.id, e.message));
    upstreams.push(up);
  }
  const heartbeat = setInterval(() => stream.comment('heartbeat'), 15_000);
  req.on('close', () => {
    clearInterval(heartbeat);
    for (const up of upstreams) up.destroy();
  });
}

/** One event block from a proxy, passed on naming the proxy; `dropped` notices keep their type. A malformed one is skipped. */
function relayBlock(stream: BoundedEventStream, proxy: string, block: string): void {
  let event: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    if (!line.startsWith('data: ')) continue;
    let data: object;
    try {
      data = JSON.parse(line.slice(6)) as object;
    } catch {
      continue;
    }
    stream.send(() => JSON.stringify({ proxy, ...data }), event === 'dropped' ? 'dropped' : undefined);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}
