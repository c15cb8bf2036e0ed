// Demo "reviews" (Node.js), in two versions: v1 answers plain reviews; v2 (VERSION=v2)
// adds stars from ratings, reached through the sidecar's local upstream listener.
import http from 'node:http';

const port = Number(process.env.PORT);
const version = process.env.VERSION ?? 'v1';
const ratingsUrl = process.env.RATINGS_URL ?? (process.env.RATINGS_SERVICE_PORT ? `http://127.0.0.1:${process.env.RATINGS_SERVICE_PORT}/ratings` : undefined);

const TRACE_HEADERS = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled'];

function ratings(req) {
  const headers = Object.fromEntries(TRACE_HEADERS.filter((h) => req.headers[h] !== undefined).map((h) => [h, req.headers[h]]));
  return new Promise((resolve) => {
    if (!ratingsUrl) return resolve({});
    http
      .get(ratingsUrl, { timeout: 2000, headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body).ratings ?? {});
          } catch {
            resolve({});
          }
        });
      })
      .on('error', () => resolve({}));
  });
}

http
  .createServer(async (req, res) => {
    const m = /^\/reviews\/(\d+)$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const review = { version, text: `item ${m[1]} is great` };
    if (version === 'v2') review.stars = (await ratings(req))[m[1]] ?? null;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(review));
  })
  .listen(port, '127.0.0.1');
