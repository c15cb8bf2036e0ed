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

/**
 * Request headers a layer replaces on the way upstream (the JWT layer: the token removed, claims
 * added): downstream fields named in `removed` (lower-case) are not copied, `added` (flat
 * `[name, value, ...]`) are appended. Apart from `upstreamHeaders`, so the downstream's trace
 * and source headers still pass when no layer rewrote those.
 */
export interface UpstreamEdit {
  readonly removed: ReadonlySet<string>;
  readonly added: readonly string[];
}
