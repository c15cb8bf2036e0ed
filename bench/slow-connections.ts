// What 10,000 slow clients cost a sidecar: each opens a connection, sends part of a request
// head and then one more byte every second (slowloris), against one proxy process
// (src/proxy/bench/bench-proxy.ts) with a local upstream. Prints the proxy's RSS and open
// descriptors (from /proc) before, at the peak, and after the request head deadline, and how
// many connections the proxy refused at once and closed later. Run by hand (not in CI):
//   npm run build && node dist/bench/slow-connections.js [--connections 10000] [--hold 25] [--proxy path/to/bench-proxy.js]
// (--proxy runs another build's proxy, e.g. an older tree's, for a before/after comparison.)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../src/common/free-port.js';
import { waitFor } from '../src/common/wait.js';

const option = (name: string): string | undefined => process.argv.find((a, i) => process.argv[i - 1] === `--${name}`);
const CONNECTIONS = Number(option('connections') ?? 10_000);
const HOLD_S = Number(option('hold') ?? 25);
const PROXY = option('proxy') ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/proxy/bench/bench-proxy.js');

const upstream = http.createServer((_req, res) => res.end('ok'));
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const [port] = await freePorts(1);
const proxy = spawn(process.execPath, [PROXY, String(port), String((upstream.address() as net.AddressInfo).port)], { stdio: ['ignore', 'pipe', 'inherit'] });
const stop = () => {
  proxy.kill('SIGKILL');
  upstream.close();
};
process.on('exit', stop);
await waitFor(
  async () =>
    new Promise<boolean>((r) => {
      const s = net.connect(port!, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    }),
  'the proxy listening',
  20_000,
);

const sample = () => {
  const status = readFileSync(`/proc/${proxy.pid}/status`, 'utf8');
  return { rssMb: Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024), fds: readdirSync(`/proc/${proxy.pid}/fd`).length };
};
const before = sample();

let connected = 0;
let closedAtOnce = 0;
let closedLater = 0;
const open = new Set<net.Socket>();
for (let i = 0; i < CONNECTIONS; i += 500) {
  await Promise.all(
    Array.from(
      { length: Math.min(500, CONNECTIONS - i) },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port!, '127.0.0.1');
          let connectedAt = 0;
          s.on('error', () => {});
          s.once('connect', () => {
            connectedAt = Date.now();
            connected++;
            open.add(s);
            s.write('GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: ');
            resolve();
          });
          s.once('close', () => {
            open.delete(s);
            // Refused over the cap: closed by the proxy right after the kernel accepted it.
            if (connectedAt === 0 || Date.now() - connectedAt < 2000) closedAtOnce++;
            else closedLater++;
            resolve();
          });
        }),
    ),
  );
}
const trickle = setInterval(() => {
  for (const s of open) s.write('a');
}, 1000);
let peak = sample();
const samples: string[] = [];
for (let t = 0; t < HOLD_S; t++) {
  await new Promise((r) => setTimeout(r, 1000));
  const now = sample();
  if (now.rssMb > peak.rssMb) peak = { ...now, fds: Math.max(now.fds, peak.fds) };
  samples.push(`${t + 1}s: ${now.rssMb} MB, ${now.fds} fds, ${open.size} open`);
}
clearInterval(trickle);
const after = sample();
console.log(samples.join('\n'));
console.log(`proxy ${PROXY}`);
console.log(`${CONNECTIONS} slow connections: ${connected} connected, ${closedAtOnce} closed at once, ${closedLater} closed later, ${open.size} still open after ${HOLD_S} s`);
console.log(`proxy RSS ${before.rssMb} MB -> peak ${peak.rssMb} MB -> ${after.rssMb} MB after ${HOLD_S} s; descriptors ${before.fds} -> peak ${peak.fds} -> ${after.fds}`);
for (const s of open) s.destroy();
stop();
process.exit(0);
