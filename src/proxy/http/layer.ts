// The one signature of the HTTP data path (STYLE 2): a Handler serves a request context; a
// Layer wraps the next handler. Stacks are composed once per data plane by the stack builders.
//
// Contract for layers:
// - A layer MUST either call `next(ctx)` exactly once (now or later), or end the request with
//   `ctx.fail(error)`; it MUST NOT write to the downstream itself.
// - A layer that needs to act when the request is over registers `ctx.onDone(hook)` with a
//   hook defined once at module level (no per-request closures on the hot path).
// - A layer MUST NOT throw for an expected failure; a throw is a bug, answered as 500 by the listener.
// - Forwarders report a failed upstream attempt with `ctx.attemptFailed(error)`; a retry layer
//   sets `ctx.attemptFailureHandler` and calls its `next` again (which re-picks an endpoint).
//   Request bodies are streamed, so a retry layer must buffer a body it wants to replay.
import type { RequestContext } from './request-context.js';

export type Handler = (ctx: RequestContext) => void;
export type Layer = (next: Handler) => Handler;

/** `layers[0]` is outermost: compose([a, b], h) serves a request as a(b(h)). */
export function compose(layers: readonly Layer[], terminal: Handler): Handler {
  let handler = terminal;
  for (let i = layers.length - 1; i >= 0; i--) handler = layers[i]!(handler);
  return handler;
}
