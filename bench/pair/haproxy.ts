// The reference: two HAProxy 2.6 processes (one per sidecar, one thread each) between the
// client and nginx, with mTLS between them (ECDSA P-256, `verify required` both ways), for
// every protocol the Trellis pair carries; and the same pair in plaintext for HTTP/1.1.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendPorts } from './backends.js';
import type { Processes } from './processes.js';

export interface PairCerts {
  readonly ca: string;
  readonly a: string;
  readonly b: string;
}

/** The ports a client uses on side A of a pair, one per protocol. */
export interface FrontPorts {
  readonly http1: number;
  readonly h2: number;
  readonly grpc: number;
  readonly tcp: number;
}

/** A P-256 CA and two certificates it signed (PEM with key, as HAProxy's `crt` wants). */
export function haproxyCerts(dir: string): PairCerts {
  const openssl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bench-ca');
  for (const name of ['a', 'b']) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=ha-${name}`);
    writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=URI:spiffe://bench/ha-${name},IP:127.0.0.1\n`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    writeFileSync(path.join(dir, `${name}.pem`), readFileSync(path.join(dir, `${name}.crt`), 'utf8') + readFileSync(path.join(dir, `${name}.key`), 'utf8'));
  }
  return { ca: path.join(dir, 'ca.pem'), a: path.join(dir, 'a.pem'), b: path.join(dir, 'b.pem') };
}

// HAProxy closes server connections after use instead of keeping them idle once a quarter of its
// descriptors are in use (tune.pool-high-fd-ratio 25): at 1,000 client connections that made
// side A open an mTLS connection to B per request (~1 ms of CPU each, p99 of seconds).
const GLOBAL = `global
  nbthread 1
  maxconn 4096
  tune.pool-low-fd-ratio 80
  tune.pool-high-fd-ratio 90
  ssl-default-bind-options ssl-min-ver TLSv1.2
  ssl-default-server-options ssl-min-ver TLSv1.2
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
`;

/**
 * The mTLS pair: A takes each protocol on its own port and forwards to B over mTLS (ALPN h2 for
 * h2 and gRPC), B forwards to nginx (h2c for h2 and gRPC; `mode tcp` end to end for the bulk
 * transfer, whose bytes HAProxy relays without reading them).
 */
export function haproxyMtlsPair(procs: Processes, front: FrontPorts, back: FrontPorts, nginx: BackendPorts, certs: PairCerts): ChildProcess[] {
  const toB = (alpn: string) => ` ssl crt ${certs.a} ca-file ${certs.ca} verify required${alpn ? ` alpn ${alpn}` : ''}`;
  const atB = (alpn: string) => ` ssl crt ${certs.b} ca-file ${certs.ca} verify required${alpn ? ` alpn ${alpn}` : ''}`;
  const a = `${GLOBAL}
frontend http1
  bind 127.0.0.1:${front.http1}
  default_backend http1
backend http1
  server b 127.0.0.1:${back.http1}${toB('')}
frontend h2
  bind 127.0.0.1:${front.h2} proto h2
  default_backend h2
backend h2
  server b 127.0.0.1:${back.h2}${toB('h2')}
frontend grpc
  bind 127.0.0.1:${front.grpc} proto h2
  default_backend grpc
backend grpc
  server b 127.0.0.1:${back.grpc}${toB('h2')}
frontend tcp
  mode tcp
  bind 127.0.0.1:${front.tcp}
  default_backend tcp
backend tcp
  mode tcp
  server b 127.0.0.1:${back.tcp}${toB('')}
`;
  const b = `${GLOBAL}
frontend http1
  bind 127.0.0.1:${back.http1}${atB('')}
  default_backend http1
backend http1
  server app 127.0.0.1:${nginx.http1}
frontend h2
  bind 127.0.0.1:${back.h2}${atB('h2')}
  default_backend h2
backend h2
  server app 127.0.0.1:${nginx.h2} proto h2
frontend grpc
  bind 127.0.0.1:${back.grpc}${atB('h2')}
  default_backend grpc
backend grpc
  server app 127.0.0.1:${nginx.grpc} proto h2
frontend tcp
  mode tcp
  bind 127.0.0.1:${back.tcp}${atB('')}
  default_backend tcp
backend tcp
  mode tcp
  server app 127.0.0.1:${nginx.bulk}
`;
  return startPair(procs, 'ha-mtls', a, b);
}

/** The plaintext pair, HTTP/1.1 only: what mTLS costs HAProxy. */
export function haproxyPlainPair(procs: Processes, front: number, back: number, nginxPort: number): ChildProcess[] {
  const a = `${GLOBAL}frontend a\n  bind 127.0.0.1:${front}\n  default_backend to_b\nbackend to_b\n  server b 127.0.0.1:${back}\n`;
  const b = `${GLOBAL}frontend b\n  bind 127.0.0.1:${back}\n  default_backend app\nbackend app\n  server app 127.0.0.1:${nginxPort}\n`;
  return startPair(procs, 'ha-plain', a, b);
}

// One HAProxy process holding both ends of a pair would share a core's work; each pair runs two.
function startPair(procs: Processes, name: string, a: string, b: string): ChildProcess[] {
  const file = (side: string, text: string) => {
    const f = path.join(procs.dir, `${name}-${side}.cfg`);
    writeFileSync(f, text);
    return f;
  };
  return [procs.start('haproxy', ['-f', file('a', a)]), procs.start('haproxy', ['-f', file('b', b)])];
}
