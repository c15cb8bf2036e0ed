// Waiting for and stopping child processes (a sidecar and its app, the demo's processes).
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';

const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** Resolves once `child` has exited, with its status as a shell reports it: the exit code, or 128 + the signal's number. */
export function exited(child: ChildProcess): Promise<number> {
  const status = () => child.exitCode ?? 128 + (os.constants.signals[child.signalCode as NodeJS.Signals] ?? 0);
  if (!running(child)) return Promise.resolve(status());
  return new Promise((resolve) => child.once('exit', () => resolve(status())));
}

/** Sends `signal` to `child` if it is still running. */
export function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child && running(child)) child.kill(signal);
}
