// Starts a proxy and an application as one unit: the proxy first, the app once the proxy's
// /ready answers; signals go to the app first, and either one ending stops the other.
import { spawn, type ChildProcess } from 'node:child_process';
import { exited, stopChild } from '../../common/child-process.js';
import { httpOk, waitFor } from '../../common/wait.js';

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
}

/** Starts the proxy, waits for its /ready, starts the app; both stop together. Resolves with the exit code to use. */
export async function superviseSidecar(o: SuperviseOptions, command: string[]): Promise<number> {
  const adminPort = o.adminPort;
  const { TRELLIS_JOIN_TOKEN: inherited, ...baseEnv } = process.env;
  const joinToken = o.joinToken ?? inherited;
  const proxy = spawn(o.proxyArgv[0]!, o.proxyArgv.slice(1), {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...baseEnv, ...(joinToken ? { TRELLIS_JOIN_TOKEN: joinToken } : {}) },
    ...o.proxySpawn,
  });
  let app: ChildProcess | undefined;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    stopping = true;
    stopChild(app, signal);
    // The proxy stops after the app so the app's last requests still get through.
    if (!app) stopChild(proxy);
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
    app = spawn(command[0]!, command.slice(1), {
      stdio: 'inherit',
      env: { ...baseEnv, ...o.appEnv },
    });
    app.on('error', (e) => {
      process.stderr.write(`trellis run: cannot start ${command[0]}: ${e.message}\n`);
    });
    const first = await Promise.race([exited(app).then((code) => ({ who: 'app', code })), exited(proxy).then((code) => ({ who: 'proxy', code }))]);
    if (first.who === 'app') {
      stopChild(proxy);
      await exited(proxy);
      // Asked to stop (SIGINT/SIGTERM passed on to the app): ending on that signal is a clean exit.
      return stopping && app.signalCode !== null ? 0 : first.code;
    }
    if (!stopping) process.stderr.write(`trellis run: the proxy exited with code ${first.code}; stopping the application\n`);
    stopChild(app);
    await exited(app);
    return stopping ? 0 : 1;
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
