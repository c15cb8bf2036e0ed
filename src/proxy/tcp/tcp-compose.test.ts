// Composition: connections go down the layers in order with each stage's target, ends come
// back up in the opposite order with the target each layer passed, and a refusal part way
// down skips the layers below it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TcpStackBuilder } from './tcp-compose.js';
import type { TcpEnd, TcpEndHandler, TcpLayer, TcpService, TcpTerminal } from './tcp-layer.js';

interface Named {
  readonly name: string;
}
interface Sized extends Named {
  readonly size: number;
}

const END: TcpEnd = { received: 1, sent: 2, durationMs: 3 };

class Trace {
  readonly events: string[] = [];
  layer<T>(label: string): TcpLayer<T, T> {
    const events = this.events;
    return {
      onConnection(target: T, next: TcpService<T>) {
        events.push(`down ${label}`);
        next.serve(target);
      },
      onEnd(target: T, end: TcpEnd, up: TcpEndHandler<T>) {
        events.push(`up ${label}`);
        up.onEnd(target, end);
      },
    };
  }
}

/** A layer that grows a Named target into a Sized one, and maps it back on the way up. */
const sizeLayer: TcpLayer<Named, Sized> = {
  onConnection(target, next) {
    next.serve({ name: target.name, size: target.name.length });
  },
  onEnd(target, end, up) {
    up.onEnd({ name: target.name }, end);
  },
};

test('targets go down in order and ends come up in reverse, each stage with its own target', () => {
  const trace = new Trace();
  const top: { target: Named; end: TcpEnd }[] = [];
  const terminalSaw: Sized[] = [];
  const terminal: TcpTerminal<Sized> = {
    onConnection(target, up) {
      terminalSaw.push(target);
      trace.events.push('terminal');
      up.onEnd(target, END);
    },
  };
  const stack = TcpStackBuilder.from<Named>({ onEnd: (target, end) => top.push({ target, end }) })
    .push(trace.layer<Named>('a'))
    .push(sizeLayer)
    .push(trace.layer<Sized>('b'))
    .end(terminal);
  stack.serve({ name: 'conn-1' });
  assert.deepEqual(trace.events, ['down a', 'down b', 'terminal', 'up b', 'up a']);
  assert.deepEqual(terminalSaw, [{ name: 'conn-1', size: 6 }]);
  assert.deepEqual(top, [{ target: { name: 'conn-1' }, end: END }]);
});

test('a layer that ends a connection skips the layers below, and the layers above hear it', () => {
  const trace = new Trace();
  const ended: Named[] = [];
  const refuse: TcpLayer<Named, Named> = {
    onConnection(target, _next, up) {
      trace.events.push('refuse');
      up.onEnd(target, { ...END, received: 0 });
    },
    onEnd: () => assert.fail('nothing was passed down'),
  };
  const stack = TcpStackBuilder.from<Named>({ onEnd: (target) => ended.push(target) })
    .push(trace.layer<Named>('a'))
    .push(refuse)
    .push(trace.layer<Named>('below'))
    .end({ onConnection: () => assert.fail('the terminal is not reached') });
  stack.serve({ name: 'c' });
  assert.deepEqual(trace.events, ['down a', 'refuse', 'up a']);
  assert.deepEqual(ended, [{ name: 'c' }]);
});

test('ends that come later (an asynchronous terminal) take the same way up', () => {
  const trace = new Trace();
  const ended: string[] = [];
  const pending: { target: Named; up: TcpEndHandler<Named> }[] = [];
  const stack = TcpStackBuilder.from<Named>({ onEnd: (target) => ended.push(target.name) })
    .push(trace.layer<Named>('a'))
    .end({ onConnection: (target, up) => pending.push({ target, up }) });
  stack.serve({ name: 'first' });
  stack.serve({ name: 'second' });
  assert.deepEqual(ended, []);
  pending[1]!.up.onEnd(pending[1]!.target, END);
  pending[0]!.up.onEnd(pending[0]!.target, END);
  assert.deepEqual(ended, ['second', 'first']);
});

test('a stack without layers serves straight to its terminal', () => {
  const ended: string[] = [];
  const stack = TcpStackBuilder.from<Named>({ onEnd: (target) => ended.push(target.name) }).end({ onConnection: (target, up) => up.onEnd(target, END) });
  stack.serve({ name: 'bare' });
  assert.deepEqual(ended, ['bare']);
});
