// Composes TCP layers into one service, outermost first, checking at compile time that each
// layer takes the targets the one above passes down. Composed once per data plane: every node
// is wired to its neighbours here, so serving a connection allocates nothing but its targets.
import type { TcpEnd, TcpEndHandler, TcpLayer, TcpService, TcpTerminal } from './tcp-layer.js';

type AnyLayer = TcpLayer<unknown, unknown>;

const UNWIRED: TcpService<unknown> = {
  serve: () => {
    throw new Error('TCP stack served before it was composed');
  },
};

/** A layer in a composed stack: the service of the node above, and the end handler of the node below. */
class LayerNode implements TcpService<unknown>, TcpEndHandler<unknown> {
  /** Invariant: wired by `TcpStackBuilder.end` before the stack serves anything. */
  next: TcpService<unknown> = UNWIRED;

  constructor(
    private readonly layer: AnyLayer,
    /** The node above (or the stack's top), which hears this layer's ends. */
    private readonly up: TcpEndHandler<unknown>,
  ) {}

  serve(target: unknown): void {
    this.layer.onConnection(target, this.next, this.up);
  }

  onEnd(target: unknown, end: TcpEnd): void {
    this.layer.onEnd(target, end, this.up);
  }
}

/** The bottom of a composed stack: hands each target to the terminal, with the last layer as its `up`. */
class TerminalNode implements TcpService<unknown> {
  constructor(
    private readonly terminal: TcpTerminal<unknown>,
    private readonly up: TcpEndHandler<unknown>,
  ) {}

  serve(target: unknown): void {
    this.terminal.onConnection(target, this.up);
  }
}

/**
 * Builds a stack top to bottom: `TcpStackBuilder.from(top).push(a).push(b).end(terminal)`
 * serves a target through a, then b, then the terminal; its end goes back through b, then a,
 * to `top`.
 */
export class TcpStackBuilder<Top, Current> {
  private constructor(
    private readonly top: TcpEndHandler<Top>,
    private readonly layers: readonly AnyLayer[],
  ) {}

  static from<T>(top: TcpEndHandler<T>): TcpStackBuilder<T, T> {
    return new TcpStackBuilder<T, T>(top, []);
  }

  push<Next>(layer: TcpLayer<Current, Next>): TcpStackBuilder<Top, Next> {
    return new TcpStackBuilder<Top, Next>(this.top, [...this.layers, layer as AnyLayer]);
  }

  end(terminal: TcpTerminal<Current>): TcpService<Top> {
    const nodes: LayerNode[] = [];
    let up = this.top as TcpEndHandler<unknown>;
    for (const layer of this.layers) {
      const node = new LayerNode(layer, up);
      nodes.push(node);
      up = node;
    }
    const bottom = new TerminalNode(terminal as TcpTerminal<unknown>, up);
    nodes.forEach((node, i) => (node.next = nodes[i + 1] ?? bottom));
    return nodes[0] ?? bottom;
  }
}
