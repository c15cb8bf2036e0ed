// Waiting for a listener's open connections to finish on shutdown, at most a grace period.
import type net from 'node:net';

export interface SocketDrain {
  /** Resolves once `sockets` is empty, or after the grace period with what is left destroyed. */
  readonly done: Promise<void>;
  /** Call whenever a socket left the set (and once right away). */
  readonly onSocketGone: () => void;
}

/** Drains `sockets` (the listener removes each closed socket and then calls `onSocketGone`). */
export function drainSockets(sockets: ReadonlySet<net.Socket>, graceMs: number): SocketDrain {
  let onSocketGone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
      resolve();
    }, graceMs);
    timer.unref();
    onSocketGone = () => {
      if (sockets.size > 0) return;
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, onSocketGone };
}
