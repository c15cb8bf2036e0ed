// Demo "frontend" (Node.js): the page a user sees. Calls catalog and reviews through the
// local upstream listeners of its sidecar (CATALOG_SERVICE_PORT, REVIEWS_SERVICE_PORT).
import http from 'node:http';

const port = Number(process.env.PORT);
// Transparent mode (the demo as root on Linux) gives plain URLs instead: CATALOG_URL=http://catalog.mesh:8080.
const upstream = (name) => process.env[`${name}_URL`] ?? `http://127.0.0.1:${process.env[`${name}_SERVICE_PORT`]}`;
const agent = new http.Agent({ keepAlive: true });
// Passing the trace context on is the one thing an app does for tracing (the sidecars do the rest).
const TRACE_HEADERS = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled'];
const traceHeaders = (req) => Object.fromEntries(TRACE_HEADERS.filter((h) => req.headers[h] !== undefined).map((h) => [h, req.headers[h]]));

function getJson(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 2000, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${url} answered ${res.statusCode}: ${body.trim()}`));
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
  });
}

http
  .createServer(async (req, res) => {
    try {
      const trace = traceHeaders(req);
      const catalog = await getJson(`${upstream('CATALOG')}/items`, trace);
      const items = await Promise.all(catalog.items.map(async (item) => ({ ...item, reviews: await getJson(`${upstream('REVIEWS')}/reviews/${item.id}`, trace) })));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: 'frontend', items }, null, 2) + '\n');
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`frontend: ${e.message}\n`);
    }
  })
  .listen(port, '127.0.0.1');
