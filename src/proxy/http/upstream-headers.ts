// Request headers the proxy owns on the way upstream: trace context (it continues the trace
// with its own span) and the source identity. When a layer set ctx.upstreamHeaders, the
// downstream's values of these are not copied.
import { TRACE_HEADERS } from '../tracing/trace-context.js';
import { SOURCE_HEADER } from '../telemetry/proxy-telemetry.js';

/** Lower-case names of the headers the proxy rewrites. */
export const REWRITTEN_HEADERS: ReadonlySet<string> = new Set([...TRACE_HEADERS, SOURCE_HEADER]);

/** Adds `name: value` to the upstream request of `ctx`. */
export function addUpstreamHeader(ctx: { upstreamHeaders: string[] | undefined }, name: string, value: string): void {
  (ctx.upstreamHeaders ??= []).push(name, value);
}
