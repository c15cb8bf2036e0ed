// Starts a proxy and an application as one unit: the proxy first, the app once the proxy's
// /ready answers. On SIGTERM/SIGINT the proxy drains first (the endpoint is withdrawn, callers
// get time to drop it, inbound connections finish), then the app is stopped, then the proxy.
// A proxy that dies while the app runs is started again with backoff (or, with exitWithProxy,
// the app is stopped with it); the app ending stops the proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { exited, stopChild } from '../../common/child-process.js';
import { httpOk, waitFor } from '../../common/wait.js';
import { RestartBackoff, type RestartPolicy } from './proxy-restarts.js';

/** How superviseSidecar starts the proxy and the app. */
export interface SuperviseOptions {
  proxyArgv: string[];
  /** Extra spawn options of the proxy (transparent mode runs it with the group id capture exempts). */
  proxySpawn?: { gid?: number; uid?: number };
  adminPort: number;
  readyTimeout: number;
  appEnv: Record<string, string>;
  /** Handed to the proxy in its environment (not argv, which other users can read), never to the app. */
  joinToken?: string;
  /** How long the proxy's drain may take on shutdown before the app is stopped anyway. */
  drainTimeoutMs: number;
  /** The behaviour before proxy restarts: when the proxy exits, stop the app and exit. */
  exitWithProxy?: boolean;
  restartPolicy?: RestartPolicy;
}

/** Starts the proxy, waits for its /ready, starts the app; see the file header. Resolves with the exit code to use. */
export async function superviseSidecar(o: SuperviseOptions, command: string[]): Promise<number> {
  const adminPort = o.adminPort;
  const { TRELLIS_JOIN_TOKEN: inherited, ...baseEnv } = process.env;
  const joinToken = o.joinToken ?? inherited;
  const startProxy = () =>
    spawn(o.proxyArgv[0]!, o.proxyArgv.slice(1), {
      // The proxy's stdout carries only access log lines: onto our stderr, so the app's stdout stays the app's.
      stdio: ['ignore', 2, 'inherit'],
      env: { ...baseEnv, ...(joinToken ? { TRELLIS_JOIN_TOKEN: joinToken } : {}) },
      ...o.proxySpawn,
    });
  let proxy = startProxy();
  let app: ChildProcess | undefined;
  let stopping = false;
  /** Resolves when shutdown begins (ends a wait between proxy restarts). */
  let stopRequested: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  const shutdown = (signal: NodeJS.Signals) => {
    // A second signal does not wait for the drain.
    if (stopping) return stopChild(app, signal);
    stopping = true;
    stopRequested();
    if (!app) return stopChild(proxy);
    void drainProxy(adminPort, o.drainTimeoutMs).then(() => stopChild(app, signal));
  };
  const onSignal = (s: NodeJS.Signals) => shutdown(s);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const proxyGone = exited(proxy).then((code) => {
      throw new Error(`the proxy exited with code ${code} before it was ready`);
    });
    await Promise.race([waitFor(() => httpOk(`http://127.0.0.1:${adminPort}/ready`), `the proxy's /ready on 127.0.0.1:${adminPort}`, o.readyTimeout), proxyGone]);
    proxyGone.catch(() => {});
    if (stopping) return 130;
    const runningApp = spawn(command[0]!, command.slice(1), {
      stdio: 'inherit',
      env: { ...baseEnv, ...o.appEnv },
    });
    app = runningApp;
    runningApp.on('error', (e) => {
      process.stderr.write(`trellis run: cannot start ${command[0]}: ${e.message}\n`);
    });
    const appExit = exited(runningApp).then((code) => ({ who: 'app' as const, code }));
    const backoff = new RestartBackoff(o.restartPolicy);
    for (;;) {
      const started = Date.now();
      const first = await Promise.race([appExit, exited(proxy).then((code) => ({ who: 'proxy' as const, code }))]);
      if (first.who === 'app') {
        stopChild(proxy);
        await exited(proxy);
        // Asked to stop (SIGINT/SIGTERM passed on to the app): ending on that signal is a clean exit.
        return stopping && runningApp.signalCode !== null ? 0 : first.code;
      }
      if (stopping || o.exitWithProxy) {
        if (!stopping) process.stderr.write(`trellis run: the proxy exited with code ${first.code}; stopping the application (--exit-with-proxy)\n`);
        stopChild(runningApp);
        await appExit;
        return stopping ? 0 : 1;
      }
      const delay = backoff.next(Date.now() - started);
      process.stderr.write(`trellis run: the proxy exited with code ${first.code}; the application keeps running, starting the proxy again in ${delay} ms\n`);
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([new Promise<'restart'>((r) => (timer = setTimeout(() => r('restart'), delay))), appExit, stopped.then(() => 'stop' as const)]);
      clearTimeout(timer);
      if (waited !== 'restart') {
        stopChild(runningApp);
        const code = await appExit;
        return stopping ? 0 : code.code;
      }
      proxy = startProxy();
    }
  } catch (e) {
    stopChild(app);
    stopChild(proxy);
    await exited(proxy);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Asks the proxy to drain (POST /drain on its admin): it answers once the endpoint is withdrawn
 * and inbound connections have finished. A proxy that is down or slow does not hold the shutdown
 * past `timeoutMs`.
 */
async function drainProxy(adminPort: number, timeoutMs: number): Promise<void> {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}/drain`, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    if (res.status !== 200) process.stderr.write(`trellis run: the proxy's drain answered ${res.status}; stopping the application\n`);
  } catch (e) {
    process.stderr.write(`trellis run: the proxy did not drain (${(e as Error).message}); stopping the application\n`);
  }
}
