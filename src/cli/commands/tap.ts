// `trellis tap SERVICE`: a live stream of the requests a service's proxies handle (metadata only).
import type { Command } from 'commander';
import { addControlPlaneOption, controlPlaneUrl } from '../api-client.js';
import { processIo, type CliIo } from '../io.js';
import { createTelemetryClient, type TelemetryClient } from '../telemetry-client.js';

export interface TapOptions {
  path?: string;
  method?: string;
  status?: string;
  output?: string;
  max?: number;
  controlPlane?: string;
}

/** One line per request, in the spirit of `linkerd tap`. */
export function tapLine(e: Record<string, unknown>): string {
  const dir = e.direction === 'inbound' ? 'in ' : 'out';
  const grpc = e.grpcStatus !== undefined ? ` grpc=${String(e.grpcStatus)}` : '';
  const err = e.proxyError !== undefined ? ` proxy-error=${String(e.proxyError)}` : '';
  const trace = e.traceId !== undefined ? ` trace=${String(e.traceId)}` : '';
  return `${String(e.time)} ${dir} ${String(e.sourceService)} -> ${String(e.service)} ${String(e.method)} ${String(e.authority)}${String(e.path)} :status=${String(e.status)}${grpc} ${String(e.durationMs)}ms req=${String(e.requestBytes)}B rsp=${String(e.responseBytes)}B${err}${trace} proxy=${String(e.proxy)}\n`;
}

export async function runTap(
  service: string,
  opts: TapOptions,
  io: CliIo = processIo,
  client: TelemetryClient = createTelemetryClient(controlPlaneUrl(opts.controlPlane)),
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  if (opts.output !== undefined && opts.output !== 'json' && opts.output !== 'text') return (io.err(`error: -o ${opts.output} is not valid: expected text or json\n`), 1);
  const filters: Record<string, string> = {};
  if (opts.path !== undefined) filters.path = opts.path;
  if (opts.method !== undefined) filters.method = opts.method;
  if (opts.status !== undefined) filters.status = opts.status;
  const inner = new AbortController();
  signal.addEventListener('abort', () => inner.abort(), { once: true });
  const r = await client.tap(service, filters, inner.signal);
  if (!r.ok) return (io.err(`error: ${r.error}\n`), 1);
  let n = 0;
  try {
    for await (const e of r.value) {
      // Not requests: events the stream lost while this client fell behind, and a proxy that could not be tapped.
      if (e.event === 'dropped') {
        io.err(`tap: ${String(e.dropped)} event(s) dropped while this client fell behind${e.proxy !== undefined ? ` (at ${String(e.proxy)})` : ''}\n`);
        continue;
      }
      if (e.event === 'problem') {
        io.err(`tap: ${String(e.proxy)}: ${String(e.message)}\n`);
        continue;
      }
      io.out(opts.output === 'json' ? JSON.stringify(e) + '\n' : tapLine(e));
      if (opts.max !== undefined && ++n >= opts.max) break;
    }
  } catch (e) {
    if (!inner.signal.aborted) return (io.err(`error: the tap stream broke off: ${(e as Error).message}\n`), 1);
  } finally {
    inner.abort();
  }
  return 0;
}

export function register(program: Command): void {
  addControlPlaneOption(
    program
      .command('tap')
      .argument('<service>', 'the service to watch (name or name.namespace)')
      .description("live stream of the requests a service's proxies handle: metadata only, never bodies")
      .option('--path <prefix>', 'only requests whose path starts with this')
      .option('--method <method>', 'only this method')
      .option('--status <code>', 'only this status (503) or class (5xx)')
      .option('--max <n>', 'stop after n requests', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--max ${v} is not valid: expected a positive integer`);
        return n;
      })
      .option('-o, --output <format>', 'text (default) or json'),
  )
    .addHelpText('after', '\nExamples:\n  trellis tap reviews\n  trellis tap frontend --status 5xx --path /api')
    .action(async (service: string, opts: TapOptions) => {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.exitCode = await runTap(service, opts, processIo, undefined, stop.signal);
    });
}
