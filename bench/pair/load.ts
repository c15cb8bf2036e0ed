// The load generators, each run bounded in requests or time, pinned to the load core:
// wrk (HTTP/1.1 throughput), h2load (h2 and gRPC throughput; latency at a fixed rate),
// curl (a bounded opaque-TCP transfer), and node:http2 checks that h2 requests and gRPC calls end OK.
import http2 from 'node:http2';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BODY, GRPC_PATH } from './backends.js';
import type { Processes } from './processes.js';

/** An h2 request body and headers, for gRPC; `replyBytes` is the body of every OK answer. */
export interface GrpcLoad {
  readonly requestFile: string;
  readonly replyBytes: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** Slack on top of a run's own duration before its generator is killed. */
const GRACE_MS = 30_000;

/** What a load run got: successful requests (or MB) a second, and the requests that failed or got no 2xx answer. */
export interface Outcome {
  readonly rate: number;
  readonly errors: number;
}

/** Requests a second of HTTP/1.1 over 32 keep-alive connections (`wrk -t1 -c32`). */
export async function wrkThroughput(procs: Processes, url: string, seconds: number): Promise<Outcome> {
  const { stdout } = await procs.run('wrk', ['-t1', '-c32', `-d${seconds}s`, url], seconds * 1000 + GRACE_MS);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!rps) throw new Error(`wrk printed no rate for ${url}:\n${stdout}`);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (socket ? [1, 2, 3, 4].reduce((n, i) => n + Number(socket[i]), 0) : 0);
  return { rate: Number(rps[1]) - non2xx / seconds, errors };
}

/** Requests a second of h2c with prior knowledge over 32 connections of 10 streams each (`h2load -c 32 -m 10 -D s`). */
export async function h2Throughput(procs: Processes, url: string, seconds: number, grpc?: GrpcLoad): Promise<Outcome> {
  const target = grpc ? url + GRPC_PATH.slice(1) : url;
  const { stdout } = await procs.run('h2load', ['-c', '32', '-m', '10', '-D', String(seconds), ...grpcArgs(grpc), target], seconds * 1000 + GRACE_MS);
  const { succeeded, errors } = h2loadSummary(stdout, target, grpc);
  return { rate: succeeded / seconds, errors };
}

/** A fixed-rate run: `rate` requests a second over `clients` connections for `seconds` after the `drop` first ones. */
export interface RateRun {
  readonly rate: number;
  readonly seconds: number;
  readonly clients: number;
  readonly h1: boolean;
  /** Seconds at the start left out of the figures (connections opening, warm-up); 1 unless told. */
  readonly drop?: number;
  readonly grpc?: GrpcLoad;
}

/** Latency percentiles (µs) and the rate of requests completed, from h2load's per-request log. */
export async function latencyAtRate(procs: Processes, url: string, o: RateRun): Promise<Percentiles & Outcome> {
  const log = path.join(procs.dir, 'lat.tsv');
  rmSync(log, { force: true }); // h2load appends to an existing log
  const target = o.grpc ? url + GRPC_PATH.slice(1) : url;
  const drop = o.drop ?? 1;
  const total = Math.round(o.rate * (o.seconds + drop));
  // `-r` opens connections at up to 1,000 a second: all of them within the dropped first second.
  const perPeriod = Math.max(1, Math.ceil(o.clients / 1000));
  const args = [
    ...(o.h1 ? ['--h1'] : []),
    '-c',
    String(o.clients),
    '--rps',
    String(o.rate / o.clients),
    '-n',
    String(total),
    '-r',
    String(perPeriod),
    '--rate-period',
    '1ms',
    '--log-file',
    log,
    ...grpcArgs(o.grpc),
    target,
  ];
  const { stdout } = await procs.run('h2load', args, (o.seconds + drop) * 1000 * 2 + GRACE_MS);
  const { errors } = h2loadSummary(stdout, target, o.grpc);
  const rows = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t').map(Number));
  // A loop, not Math.min(...rows): a spread of every row overflows the stack on long runs.
  let t0 = Infinity;
  let t1 = 0;
  for (const r of rows) {
    t0 = Math.min(t0, r[0]!);
    t1 = Math.max(t1, r[0]!);
  }
  const kept = rows
    .filter((r) => r[0]! - t0 >= drop * 1e6 && r[1] === 200)
    .map((r) => r[2]!)
    .sort((a, b) => a - b);
  if (kept.length === 0) throw new Error(`h2load logged no request after the first ${drop} s for ${target}`);
  const q = (p: number) => kept[Math.min(kept.length - 1, Math.floor((p / 100) * kept.length))]!;
  return { p50: q(50), p90: q(90), p99: q(99), rate: kept.length / Math.max(1, (t1 - t0) / 1e6 - drop), errors };
}

/** MB/s (MiB) of one download of `bytes` through `url`, which relays an HTTP/1.1 exchange as opaque TCP. */
export async function bulkTransfer(procs: Processes, url: string, bytes: number): Promise<number> {
  const limitS = 120;
  const { stdout, status } = await procs.run(
    'curl',
    ['-sS', '-o', '/dev/null', '--max-time', String(limitS), '-w', '%{http_code} %{size_download} %{time_total}', url],
    limitS * 1000 + GRACE_MS,
  );
  const [code, size, seconds] = stdout.trim().split(' ').map(Number);
  if (status !== 0 || code !== 200 || size !== bytes) throw new Error(`curl ${url}: exit ${status}, HTTP ${code}, ${size} of ${bytes} bytes`);
  return bytes / 1024 / 1024 / seconds!;
}

/** What an h2 request got: its status, body bytes and grpc-status (from the trailers, or the headers of a trailers-only answer). */
interface H2Answer {
  readonly status: number;
  readonly bytes: number;
  readonly grpcStatus: string | undefined;
}

/**
 * Makes `calls` h2c requests, one at a time on one connection, and fails on the first answer
 * `problem` finds fault with. Before the rounds it also opens each proxy's upstream h2 session,
 * as the HTTP/1.1 readiness check does for its connections.
 */
async function h2Calls(url: string, calls: number, headers: http2.OutgoingHttpHeaders, body: Buffer | undefined, problem: (a: H2Answer) => string | undefined): Promise<void> {
  const session = http2.connect(url);
  session.on('error', () => {
    /* reported through the failed call */
  });
  try {
    for (let i = 0; i < calls; i++) {
      const answer = await new Promise<H2Answer>((resolve, reject) => {
        const s = session.request(headers);
        let status = 0;
        let bytes = 0;
        let grpcStatus: string | undefined;
        s.setTimeout(10_000, () => s.close(http2.constants.NGHTTP2_CANCEL));
        s.on('response', (h) => {
          status = Number(h[':status']);
          grpcStatus ??= h['grpc-status'] as string | undefined;
        });
        s.on('trailers', (t: http2.IncomingHttpHeaders) => {
          grpcStatus = t['grpc-status'] as string | undefined;
        });
        s.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        s.on('end', () => resolve({ status, bytes, grpcStatus }));
        s.on('error', reject);
        s.end(body);
      });
      const wrong = problem(answer);
      if (wrong !== undefined) throw new Error(`call ${i + 1} through ${url}: ${wrong}`);
    }
  } finally {
    session.close();
  }
}

/** `calls` GET requests over h2c, each answered 200 with the whole body. */
export function checkH2Ok(url: string, calls: number): Promise<void> {
  return h2Calls(url, calls, { ':path': '/' }, undefined, (a) =>
    a.status !== 200 || a.bytes !== BODY.length ? `HTTP ${a.status}, ${a.bytes} of ${BODY.length} body bytes` : undefined,
  );
}

/**
 * `calls` unary gRPC calls, each answered HTTP 200 with the whole reply and the trailer
 * grpc-status 0: h2load counts only HTTP status.
 */
export function checkGrpcOk(url: string, grpc: GrpcLoad, calls: number): Promise<void> {
  return h2Calls(url, calls, { ':method': 'POST', ':path': GRPC_PATH, 'content-type': 'application/grpc', te: 'trailers' }, readFileSync(grpc.requestFile), (a) =>
    a.status !== 200 || a.grpcStatus !== '0' || a.bytes !== grpc.replyBytes
      ? `HTTP ${a.status}, grpc-status ${a.grpcStatus}, ${a.bytes} of ${grpc.replyBytes} reply bytes`
      : undefined,
  );
}

function grpcArgs(grpc: GrpcLoad | undefined): string[] {
  return grpc ? ['-d', grpc.requestFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers'] : [];
}

/**
 * h2load's counts: requests that succeeded (a 2xx or 3xx answer), and errors: requests that got
 * another status, errored or timed out (h2load's `failed` counts them all), and for gRPC calls
 * answered without a reply message (a proxy's own gRPC error is a trailers-only 200).
 */
function h2loadSummary(stdout: string, target: string, grpc: GrpcLoad | undefined): { succeeded: number; errors: number } {
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const data = /traffic: .* \((\d+)\) data/.exec(stdout);
  if (!requests || !data) throw new Error(`h2load printed no summary for ${target}:\n${stdout}`);
  const [succeeded, failed] = [Number(requests[4]), Number(requests[5])];
  const noReply = grpc ? Math.max(0, succeeded - Math.floor(Number(data[1]) / grpc.replyBytes)) : 0;
  return { succeeded: succeeded - noReply, errors: failed + noReply };
}
