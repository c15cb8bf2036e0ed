// The contract of the HTTP data path (STYLE 2): a request goes down a stack of layers to the
// forwarder; what the upstream answered (or how the attempt failed) comes back up through
// the same layers, innermost first. Stacks are built once per data plane by the stack
// builders (outbound-stack.ts, inbound-stack.ts); no closure is made per request.
//
// Contract for layers:
// - `request` MUST either call `next(ctx)` exactly once (now or later), or end the request
//   with `ctx.fail(error)`; it MUST NOT write to the downstream itself.
// - A layer that needs to act when the request is over registers `ctx.onDone(hook)` with a
//   hook defined once at module level (or once per stack), from `request`.
// - `onResponseHead` sees each attempt's response head before it goes downstream;
//   `onAttemptFailed` sees each failed attempt (connect failure, reset, per-try timeout).
//   Returning true means the layer took the attempt over (a retry called its `next` again):
//   the layers above it never see that attempt, and its response is dropped. Both MUST NOT
//   fail the request themselves; returning false passes the event up.
// - A layer MUST NOT throw for an expected failure; a throw is a bug, answered as 500 by the listener.
// - Request bodies are streamed, so a layer that wants to send one again must keep it (ctx.replay).
// - Stage data is typed and set by exactly one layer: the route layer makes a RequestContext a
//   RoutedRequest, the cluster-pick layer a BackendRequest, the balance layer (each attempt) an
//   EndpointRequest. A layer declares the stage it needs (`HttpLayer<In>`) and, if it adds
//   one, the stage it hands on (`HttpLayer<In, Out>`); StackBuilder only accepts a layer
//   below the stage it needs, so the order is checked by the compiler.
import type { ProxyError } from '../errors.js';
import type { RequestContext } from './request-context.js';

export type Handler<C extends RequestContext = RequestContext> = (ctx: C) => void;

/** One concern of the HTTP data path: needs stage `In`, hands on stage `Out` (the same unless it adds one). */
export interface HttpLayer<In extends RequestContext = RequestContext, Out extends In = In> {
  /** For stack listings and errors. */
  readonly name: string;
  /** The way down. */
  request(ctx: In, next: Handler<Out>): void;
  /** The way up: an attempt's response head (`grpcStatus` from a trailers-only answer, else NO_GRPC_STATUS). */
  onResponseHead?(ctx: In, status: number, grpcStatus: number): boolean;
  /** The way up: an attempt failed before a response head. */
  onAttemptFailed?(ctx: In, error: ProxyError): boolean;
}

/** Any layer, as the composed stack holds them (their order was checked by StackBuilder). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyLayer = HttpLayer<any, any>;

/**
 * Builds a stack top to bottom: `then` adds a layer below the ones so far, `end` the terminal.
 * `T` is the stage reached: a layer needing more than that does not compile.
 */
export class StackBuilder<T extends RequestContext> {
  private constructor(private readonly layers: readonly AnyLayer[]) {}

  /** An empty stack: requests enter as plain RequestContexts. */
  static top(): StackBuilder<RequestContext> {
    return new StackBuilder([]);
  }

  then<In extends RequestContext, Out extends In>(layer: HttpLayer<In, Out> & (T extends In ? unknown : { stageMissing: In })): StackBuilder<In extends Out ? T : Out> {
    return new StackBuilder([...this.layers, layer]);
  }

  end(terminal: Handler<T>): HttpStack {
    return new HttpStack(this.layers, terminal as Handler);
  }
}

/** A composed stack: the entry the listener calls, and the way back up for the forwarders. */
export class HttpStack {
  /** Serves a request: the outermost layer's `request`. */
  readonly serve: Handler;
  /** Layers with `onResponseHead`, innermost first. */
  private readonly headObservers: readonly AnyLayer[];
  /** Layers with `onAttemptFailed`, innermost first. */
  private readonly failureObservers: readonly AnyLayer[];

  /** `layers[0]` is outermost: a request meets layers[0], layers[1], ..., then `terminal` (the forwarder). */
  constructor(
    readonly layers: readonly AnyLayer[],
    terminal: Handler,
  ) {
    let handler = terminal;
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i]!;
      const next = handler;
      handler = (ctx) => layer.request(ctx, next);
    }
    this.serve = handler;
    const inner = [...layers].reverse();
    this.headObservers = inner.filter((l) => l.onResponseHead !== undefined);
    this.failureObservers = inner.filter((l) => l.onAttemptFailed !== undefined);
  }

  /** An attempt's response head on its way up; true when a layer took the attempt over. */
  responseHead(ctx: RequestContext, status: number, grpcStatus: number): boolean {
    const observers = this.headObservers;
    for (let i = 0; i < observers.length; i++) if (observers[i]!.onResponseHead!(ctx, status, grpcStatus)) return true;
    return false;
  }

  /** A failed attempt on its way up; true when a layer took the attempt over. */
  attemptFailed(ctx: RequestContext, error: ProxyError): boolean {
    const observers = this.failureObservers;
    for (let i = 0; i < observers.length; i++) if (observers[i]!.onAttemptFailed!(ctx, error)) return true;
    return false;
  }
}
