// Demo traffic: a steady trickle of requests to the frontend through this workload's own
// sidecar (FRONTEND_SERVICE_PORT), a few a second, and a tiny status page on PORT.
import http from 'node:http';

const target = process.env.FRONTEND_URL ?? `http://127.0.0.1:${process.env.FRONTEND_SERVICE_PORT}/`;
const intervalMs = Number(process.env.LOADGEN_INTERVAL_MS ?? 250);
const counts = { ok: 0, failed: 0 };

setInterval(() => {
  http
    .get(target, { timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? counts.ok++ : counts.failed++));
    })
    .on('error', () => counts.failed++);
}, intervalMs);

http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(counts) + '\n');
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
