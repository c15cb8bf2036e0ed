// The servers at the end of every path: one nginx (one worker) answering HTTP/1.1, h2c, gRPC
// and serving a file for the opaque-TCP transfer, so every path ends at the same C server.
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Processes } from './processes.js';

/** 100 bytes, as in the reference measurements. */
export const BODY = 'x'.repeat(99) + '\n';
/** The unary method every gRPC call names. */
export const GRPC_PATH = '/bench.Bench/Call';
/** A gRPC message frame (uncompressed flag, 4-byte length) holding a protobuf message whose field 1 is "hello". */
const GRPC_FRAME = Buffer.from([0, 0, 0, 0, 7, 0x0a, 5, ...Buffer.from('hello')]);
/** The file the bulk transfer fetches, below the nginx root. */
export const BULK_PATH = '/bulk.bin';

export interface BackendPorts {
  readonly http1: number;
  readonly h2: number;
  readonly grpc: number;
  readonly bulk: number;
}

export interface Backends {
  readonly ports: BackendPorts;
  readonly nginx: ChildProcess;
  /** The request h2load posts (a gRPC frame), and the bytes of each reply's body. */
  readonly grpcRequestFile: string;
  readonly grpcReplyBytes: number;
  readonly bulkBytes: number;
}

/**
 * Starts nginx. gRPC: nginx answers every POST to GRPC_PATH with a fixed message frame and the
 * trailer `grpc-status: 0` (a static file, `error_page 405 =200` lets it answer POST), so the
 * server costs about what the h2c path's does and is not the bottleneck of any path.
 */
export function startBackends(procs: Processes, ports: BackendPorts, bulkMb: number): Backends {
  const dir = procs.dir;
  writeFileSync(path.join(dir, 'grpc-frame.bin'), GRPC_FRAME);
  writeBulkFile(path.join(dir, 'bulk.bin'), bulkMb);
  // Run as root, nginx's worker would drop to `nobody`, which cannot read the private temp directory.
  const user = process.getuid?.() === 0 ? 'user root; ' : '';
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${user}worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err;
events { worker_connections 8192; }
http {
  access_log off; keepalive_requests 1000000; etag off;
  server { listen 127.0.0.1:${ports.http1}; location / { default_type text/plain; return 200 "${BODY.trim()}\\n"; } }
  server { listen 127.0.0.1:${ports.h2} http2; location / { default_type text/plain; return 200 "${BODY.trim()}\\n"; } }
  server {
    listen 127.0.0.1:${ports.grpc} http2; root ${dir};
    # Every path (the redirect of error_page goes to the file's own name) answers the call.
    location / {
      types { } default_type application/grpc; add_trailer grpc-status 0;
      error_page 405 =200 $uri; try_files /grpc-frame.bin =500;
    }
  }
  server { listen 127.0.0.1:${ports.bulk}; root ${dir}; sendfile on; location = ${BULK_PATH} { } }
}
`,
  );
  const nginx = procs.start('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir]);
  return { ports, nginx, grpcRequestFile: path.join(dir, 'grpc-frame.bin'), grpcReplyBytes: GRPC_FRAME.length, bulkBytes: bulkMb * 1024 * 1024 };
}

/** A file of `mb` MiB (0: an empty file, when the TCP section does not run). */
function writeBulkFile(file: string, mb: number): void {
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mb; i++) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
