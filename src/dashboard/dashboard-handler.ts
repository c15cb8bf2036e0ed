// Serves the dashboard under /dashboard/ (and redirects / there) from files read once at
// start, with ETags so a reload costs a 304. The pages read the control plane's JSON API.
// Files that cannot be read make every dashboard path a 500 naming the file; the API is unaffected.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadFiles, staticFiles } from './static-files.js';

/** A handler that answers the dashboard's paths and returns false for every other path. */
export function createDashboardHandler(): (req: IncomingMessage, res: ServerResponse) => boolean {
  let files: Map<string, { body: Buffer; type: string; etag: string }> | undefined;
  let problem: string | undefined;
  try {
    files = new Map([...loadFiles(staticFiles())].map(([k, v]) => [k, { ...v, etag: `"${createHash('sha1').update(v.body).digest('hex').slice(0, 16)}"` }]));
  } catch (e) {
    problem = `the dashboard's files could not be read: ${(e as Error).message}`;
  }
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://trellis.invalid');
    if (url.pathname === '/' || url.pathname === '/dashboard') {
      res.writeHead(302, { location: '/dashboard/' });
      res.end();
      return true;
    }
    if (!url.pathname.startsWith('/dashboard/')) return false;
    if (files === undefined) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${problem}\n`);
      return true;
    }
    const rel = url.pathname.slice('/dashboard/'.length) || 'index.html';
    const f = files.get(rel);
    if (f === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(f === undefined ? 404 : 405, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(f === undefined ? `no dashboard file ${rel}\n` : `${req.method} is not allowed; the dashboard answers GET\n`);
      return true;
    }
    if (req.headers['if-none-match'] === f.etag) {
      res.writeHead(304, { etag: f.etag });
      res.end();
      return true;
    }
    res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length, etag: f.etag, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : f.body);
    return true;
  };
}
