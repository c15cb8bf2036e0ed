// The floor under any proxy written on Node.js's sockets: two processes that only relay bytes,
// connection for connection (plain TCP in on side A, mTLS between A and B, plain TCP from B to
// the server), with no HTTP, no routing and no telemetry. What this pair costs per request is
// what node's net and tls streams cost; the Trellis pair's distance above it is Trellis's own.
// Run by the bench as a child: node node-relay.js a|b LISTEN TARGET CERT_PEM CA_PEM [LISTEN TARGET ...]
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { SIDECAR_NODE_FLAGS } from '../../src/common/self.js';
import type { FrontPorts, PairCerts } from './haproxy.js';
import type { Processes } from './processes.js';

/** Side A: plain TCP in, mTLS to B; side B: mTLS in, plain TCP to the server. Ports in pairs. */
function runRelay(side: 'a' | 'b', pem: string, caFile: string, ports: number[]): void {
  const keyAndCert = readFileSync(pem, 'utf8');
  const secure = { key: keyAndCert, cert: keyAndCert, ca: readFileSync(caFile, 'utf8'), rejectUnauthorized: true };
  for (let i = 0; i + 1 < ports.length; i += 2) {
    const target = ports[i + 1]!;
    const relay = (down: net.Socket): void => {
      down.setNoDelay(true);
      // A verifies B's certificate against the CA and its IP SAN (127.0.0.1), as the other pairs do.
      const up = side === 'a' ? tls.connect({ ...secure, host: '127.0.0.1', port: target }) : net.connect({ host: '127.0.0.1', port: target, noDelay: true });
      if (side === 'a') up.setNoDelay(true);
      // pipe(): backpressure both ways, and a FIN passed on as a FIN.
      down.pipe(up).pipe(down);
      const close = (): void => {
        down.destroy();
        up.destroy();
      };
      down.on('error', close).on('close', close);
      up.on('error', close).on('close', close);
    };
    const server = side === 'a' ? net.createServer(relay) : tls.createServer({ ...secure, requestCert: true }, relay);
    server.listen(ports[i], '127.0.0.1');
  }
}

/** Starts the relay pair on `node` for the HTTP/1.1 and TCP ports (the protocols a byte relay carries). */
export function startNodeRelayPair(
  procs: Processes,
  node: string,
  front: Pick<FrontPorts, 'http1' | 'tcp'>,
  back: Pick<FrontPorts, 'http1' | 'tcp'>,
  server: { http1: number; tcp: number },
  certs: PairCerts,
): ChildProcess[] {
  const program = fileURLToPath(import.meta.url);
  const side = (name: 'a' | 'b', pem: string, ports: number[]) => procs.start(node, [...SIDECAR_NODE_FLAGS, program, name, pem, certs.ca, ...ports.map(String)]);
  return [side('a', certs.a, [front.http1, back.http1, front.tcp, back.tcp]), side('b', certs.b, [back.http1, server.http1, back.tcp, server.tcp])];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [side, pem, ca, ...ports] = process.argv.slice(2);
  if ((side !== 'a' && side !== 'b') || pem === undefined || ca === undefined || ports.length < 2) {
    console.error('usage: node-relay.js a|b CERT_PEM CA_PEM LISTEN TARGET [LISTEN TARGET ...]');
    process.exit(2);
  }
  runRelay(side, pem, ca, ports.map(Number));
}
